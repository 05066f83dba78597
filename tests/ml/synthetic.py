"""Helpers for the ML tests: tiny synthetic images (the network guard is in
tests/network_guard.py, on for every test)."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from ml.types import BoxShape, GroundTruthImage, PolygonShape

CLASSES = ("square", "disc")
COLOURS = {"square": (220, 40, 40), "disc": (40, 60, 230)}


def make_image(path: Path, size: tuple[int, int], seed: int, shapes=()) -> Path:
    """A noisy background with the given shapes drawn on it."""
    rng = random.Random(seed)
    w, h = size
    noise = bytes(rng.randrange(90, 160) for _ in range(w * h * 3))
    img = Image.frombytes("RGB", size, noise)
    draw = ImageDraw.Draw(img)
    for shape in shapes:
        x, y, bw, bh = shape.bounds()
        if shape.label == "disc":
            draw.ellipse((x, y, x + bw, y + bh), fill=COLOURS["disc"])
        else:
            draw.rectangle((x, y, x + bw, y + bh), fill=COLOURS[shape.label])
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def synthetic_ground_truth(
    root: Path, n: int = 12, size: int = 64, seed: int = 0
) -> list[GroundTruthImage]:
    """``n`` images each holding one square and/or one disc, split 8/2/2-ish."""
    rng = random.Random(seed)
    splits = ["train"] * (n - 4) + ["val", "val", "test", "test"]
    images = []
    for i in range(n):
        shapes = []
        s = rng.randint(size // 4, size // 2)
        x, y = rng.randint(0, size - s - 1), rng.randint(0, size - s - 1)
        if i % 2 == 0:
            shapes.append(BoxShape("square", (float(x), float(y), float(s), float(s))))
        else:
            pts = ((x, y), (x + s, y), (x + s, y + s), (x, y + s))
            shapes.append(
                PolygonShape("disc", tuple((float(a), float(b)) for a, b in pts))
            )
        path = make_image(root / f"img {i}.png", (size, size), seed * 1000 + i, shapes)
        images.append(GroundTruthImage(str(path), size, size, tuple(shapes), splits[i]))
    return images
