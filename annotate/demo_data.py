"""Synthetic images for the demo, tests and benchmarks: coloured shapes on texture."""

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

DEMO_LABELS = ["circle", "rectangle", "triangle"]
_COLOURS = {
    "circle": (220, 60, 60),
    "rectangle": (40, 110, 220),
    "triangle": (40, 170, 80),
}


@dataclass(frozen=True)
class SyntheticImage:
    png: bytes
    width: int
    height: int
    # API-shaped annotations: rectangles as boxes, circles and triangles as polygons.
    shapes: list[dict]


def _background(rng: random.Random, width: int, height: int) -> Image.Image:
    base = tuple(rng.randint(150, 235) for _ in range(3))
    img = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(img)
    for _ in range(width * height // 90):  # speckle texture
        x, y = rng.randrange(width), rng.randrange(height)
        shade = tuple(max(0, min(255, c + rng.randint(-35, 35))) for c in base)
        draw.point((x, y), fill=shade)
    for _ in range(rng.randint(2, 5)):  # soft stripes
        y = rng.randrange(height)
        shade = tuple(max(0, c - rng.randint(10, 30)) for c in base)
        draw.line(
            [(0, y), (width, y + rng.randint(-20, 20))],
            fill=shade,
            width=rng.randint(2, 6),
        )
    return img.filter(ImageFilter.SMOOTH)


def synthetic_image(
    seed: int, width: int = 320, height: int = 240, max_shapes: int = 3
) -> SyntheticImage:
    """A deterministic image with 1..max_shapes non-overlapping labelled shapes."""
    rng = random.Random(seed)
    img = _background(rng, width, height)
    draw = ImageDraw.Draw(img)
    shapes: list[dict] = []
    boxes: list[tuple[float, float, float, float]] = []
    for _ in range(rng.randint(1, max_shapes)):
        for _attempt in range(20):
            size = rng.uniform(0.18, 0.35) * min(width, height)
            x = rng.uniform(2, width - size - 2)
            y = rng.uniform(2, height - size - 2)
            if all(
                x + size < bx or bx + bw < x or y + size < by or by + bh < y
                for bx, by, bw, bh in boxes
            ):
                break
        else:
            continue
        boxes.append((x, y, size, size))
        label = rng.choice(DEMO_LABELS)
        colour = tuple(
            max(0, min(255, c + rng.randint(-25, 25))) for c in _COLOURS[label]
        )
        if label == "rectangle":
            h = size * rng.uniform(0.6, 1.0)
            draw.rectangle([x, y, x + size, y + h], fill=colour)
            shapes.append(
                {
                    "kind": "box",
                    "label": label,
                    "bbox": [round(x, 2), round(y, 2), round(size, 2), round(h, 2)],
                }
            )
        elif label == "circle":
            r = size / 2
            cx, cy = x + r, y + r
            draw.ellipse([x, y, x + size, y + size], fill=colour)
            pts = [
                [
                    round(cx + r * math.cos(2 * math.pi * k / 16), 2),
                    round(cy + r * math.sin(2 * math.pi * k / 16), 2),
                ]
                for k in range(16)
            ]
            shapes.append({"kind": "polygon", "label": label, "points": pts})
        else:
            pts = [[x + size / 2, y], [x + size, y + size], [x, y + size]]
            draw.polygon([tuple(p) for p in pts], fill=colour)
            shapes.append(
                {
                    "kind": "polygon",
                    "label": label,
                    "points": [[round(a, 2), round(b, 2)] for a, b in pts],
                }
            )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return SyntheticImage(png=buf.getvalue(), width=width, height=height, shapes=shapes)
