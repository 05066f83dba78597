"""Generated images with known truth for the error-analysis figures.

Small (96 x 96 px) scenes of 1-3 well separated objects on a noisy grey
background. Each class has its own shape and colour (a model learns them in a
few epochs): ``square`` (red), ``disc`` (blue), ``triangle`` (green), and
``cross`` (orange), the kind that a test keeps out of training or makes rare.
:func:`other_world` draws a different generator (striped colour backgrounds,
rings and bars) for out-of-distribution checks. :func:`plant_label_errors`
corrupts approved shapes the ways people do: a wrong class, a shifted box, a
forgotten shape. Every function is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ml.types import BoxShape, GroundTruthImage

SIZE = 96
KNOWN = ("square", "disc", "triangle")
RARE = "cross"
CLASSES = (*KNOWN, RARE)
COLOURS = {
    "square": (215, 45, 45),
    "disc": (45, 75, 220),
    "triangle": (40, 165, 70),
    "cross": (240, 150, 20),
    "ring": (150, 60, 190),
    "bar": (30, 170, 180),
}


def _draw(draw: ImageDraw.ImageDraw, label: str, x, y, s, colour) -> None:
    cx, cy = x + s / 2, y + s / 2
    if label == "disc":
        draw.ellipse([x, y, x + s, y + s], fill=colour)
    elif label == "square":
        draw.rectangle([x, y, x + s, y + s], fill=colour)
    elif label == "triangle":
        draw.polygon([(cx, y), (x + s, y + s), (x, y + s)], fill=colour)
    elif label == "cross":
        w = s / 3
        draw.rectangle([x, cy - w / 2, x + s, cy + w / 2], fill=colour)
        draw.rectangle([cx - w / 2, y, cx + w / 2, y + s], fill=colour)
    elif label == "ring":
        draw.ellipse([x, y, x + s, y + s], outline=colour, width=max(2, int(s / 6)))
    else:  # bar
        draw.rectangle([x, cy - s / 6, x + s, cy + s / 6], fill=colour)


def _place(rng: np.random.Generator, n: int, lo: float, hi: float) -> list[tuple]:
    out: list[tuple] = []
    for _ in range(n):
        for _attempt in range(50):
            s = float(rng.uniform(lo, hi))
            x = float(rng.uniform(1, SIZE - s - 1))
            y = float(rng.uniform(1, SIZE - s - 1))
            if all(
                x + s + 3 < bx or bx + bs + 3 < x or y + s + 3 < by or by + bs + 3 < y
                for bx, by, bs in out
            ):
                out.append((round(x, 2), round(y, 2), round(s, 2)))
                break
    return out


def _jitter(rng: np.random.Generator, colour: tuple[int, ...], amount: int = 20):
    return tuple(
        int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour
    )


def _grey_noise(rng: np.random.Generator) -> Image.Image:
    level = int(rng.integers(110, 170))
    noise = rng.integers(level - 30, level + 30, size=(SIZE, SIZE, 3), dtype=np.int16)
    return Image.fromarray(noise.clip(0, 255).astype(np.uint8), "RGB")


def render(
    path: Path, seed: int, labels: Sequence[str], lo: float = 18, hi: float = 34
) -> tuple[BoxShape, ...]:
    """Draw objects of ``labels`` (as many as fit) and save the image."""
    rng = np.random.default_rng(seed)
    img = _grey_noise(rng)
    draw = ImageDraw.Draw(img)
    shapes = []
    for label, (x, y, s) in zip(labels, _place(rng, len(labels), lo, hi), strict=False):
        _draw(draw, label, x, y, s, _jitter(rng, COLOURS[label]))
        shapes.append(BoxShape(label, (x, y, s, s)))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return tuple(shapes)


def scenes(
    root: Path,
    n: int,
    seed: int,
    *,
    split: str = "train",
    rare_items: Sequence[int] = (),
) -> list[GroundTruthImage]:
    """``n`` images of 1-3 objects of the KNOWN classes; the images whose index
    is in ``rare_items`` hold one ``cross`` among them."""
    rng = np.random.default_rng(seed)
    rare = set(rare_items)
    images = []
    for i in range(n):
        count = int(rng.choice([1, 2, 2, 3]))
        labels = [str(rng.choice(KNOWN)) for _ in range(count)]
        if i in rare:
            labels[int(rng.integers(count))] = RARE
        path = root / f"{seed}-{i:05d}.png"
        shapes = render(path, seed * 100_003 + i, labels)
        images.append(GroundTruthImage(str(path), SIZE, SIZE, shapes, split))
    return images


def other_world(root: Path, n: int, seed: int) -> list[str]:
    """``n`` images from another generator: saturated striped backgrounds,
    rings and bars instead of the known shapes. Returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        a = rng.integers(0, 256, size=3)
        b = rng.integers(0, 256, size=3)
        period = int(rng.integers(6, 16))
        angle = float(rng.uniform(0, math.pi))
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        t = (
            np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * 2 * math.pi / period)
            > 0
        )
        arr = np.where(t[..., None], a, b).astype(np.uint8)
        img = Image.fromarray(arr, "RGB")
        draw = ImageDraw.Draw(img)
        count = int(rng.choice([1, 2, 3]))
        for x, y, s in _place(rng, count, 18, 34):
            label = str(rng.choice(["ring", "bar"]))
            _draw(draw, label, x, y, s, _jitter(rng, COLOURS[label]))
        path = root / f"ood-{seed}-{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
        paths.append(str(path))
    return paths


@dataclass(frozen=True)
class Planted:
    """One planted label error: in image ``image`` (index), ``kind`` is
    ``wrong_class`` / ``shifted_box`` (``shape`` = index of the corrupted shape
    in the noisy image) or ``missing_label`` (``truth`` = the deleted box)."""

    image: int
    kind: str
    shape: int | None
    truth: BoxShape


def plant_label_errors(
    images: Sequence[GroundTruthImage], share: float, seed: int
) -> tuple[list[GroundTruthImage], list[Planted]]:
    """Flip the class of ``share`` of all shapes, shift another ``share`` by
    half their size (along x or y, staying inside the image: IoU 1/3 with the
    truth) and delete another ``share``; disjoint, seeded."""
    rng = np.random.default_rng(seed)
    refs = [(i, j) for i, img in enumerate(images) for j in range(len(img.shapes))]
    k = round(share * len(refs))
    order = rng.permutation(len(refs))
    flip = {refs[t] for t in order[:k]}
    shift = {refs[t] for t in order[k : 2 * k]}
    delete = {refs[t] for t in order[2 * k : 3 * k]}
    out, planted = [], []
    for i, img in enumerate(images):
        kept = []
        for j, shape in enumerate(img.shapes):
            if (i, j) in delete:
                planted.append(Planted(i, "missing_label", None, shape))
                continue
            new = shape
            if (i, j) in flip:
                others = [c for c in KNOWN if c != shape.label]
                new = BoxShape(str(rng.choice(others)), shape.bbox)
                planted.append(Planted(i, "wrong_class", len(kept), shape))
            elif (i, j) in shift:
                new = BoxShape(shape.label, _shifted(rng, shape.bbox))
                planted.append(Planted(i, "shifted_box", len(kept), shape))
            kept.append(new)
        out.append(replace(img, shapes=tuple(kept)))
    return out, planted


def _shifted(rng: np.random.Generator, bbox) -> tuple[float, float, float, float]:
    x, y, w, h = bbox
    moves = [(w / 2, 0), (-w / 2, 0), (0, h / 2), (0, -h / 2)]
    inside = [
        (dx, dy)
        for dx, dy in moves
        if 0 <= x + dx and x + dx + w <= SIZE and 0 <= y + dy and y + dy + h <= SIZE
    ]
    dx, dy = (inside or moves)[int(rng.integers(len(inside or moves)))]
    return (round(x + dx, 2), round(y + dy, 2), w, h)


def hits(candidate, planted: Planted) -> bool:
    """Whether a label-error candidate (ml.label_errors) recovers a planted
    error: same image index, same kind, and the same shape (a missing label:
    the suggested box overlaps the deleted one by IoU >= 0.5)."""
    from ml.geometry import box_iou

    if candidate.image_id != planted.image or candidate.kind != planted.kind:
        return False
    if planted.kind == "missing_label":
        return box_iou(candidate.pred_bbox, planted.truth.bbox) >= 0.5
    return candidate.gt_index == planted.shape


def at_k(ranking, planted: Sequence[Planted], k: int) -> tuple[float, float]:
    """(precision, recall) of the first ``k`` candidates of ``ranking`` against
    ``planted``; each planted error counts once."""
    found: set[int] = set()
    useful = 0
    for c in ranking[:k]:
        new = [n for n, p in enumerate(planted) if n not in found and hits(c, p)]
        if new:
            found.add(new[0])
            useful += 1
    precision = useful / min(k, len(ranking)) if ranking[:k] else 0.0
    return precision, (len(found) / len(planted) if planted else 1.0)


def figures(ranking, planted: Sequence[Planted]) -> dict[str, dict[str, float]]:
    """Per planted kind: how many were planted, and precision / recall at
    k = 2 x planted, both among the candidates of that kind (``precision``,
    ``recall``) and in the ranking of every kind at k = 2 x all planted
    (``recall_all``)."""
    out = {}
    k_all = 2 * len(planted)
    for kind in ("wrong_class", "shifted_box", "missing_label"):
        mine = [p for p in planted if p.kind == kind]
        of_kind = [c for c in ranking if c.kind == kind]
        precision, recall = at_k(of_kind, mine, 2 * len(mine))
        out[kind] = {
            "planted": len(mine),
            "precision": precision,
            "recall": recall,
            "recall_all": at_k(ranking, mine, k_all)[1],
        }
    return out


TRAINING = {"imgsz": SIZE, "batch": 8, "optimizer": "AdamW", "lr0": 0.003}
"""Measured to learn these scenes within 10 epochs (mAP50 about 0.8 on 200
images in 25-45 s on 2 cores); the default SGD schedule needs several times
longer."""


def train_detector(backend, images, out: Path, epochs: int = 10) -> Path:
    """Train yolov8n from scratch on ``images`` (their classes: CLASSES, so
    ``cross`` is a class of the model whether or not it is seen); return
    the weights. Validation runs once, at the end, on the training images."""
    from ml.config import validate_model_config
    from ml.datasets import write_yolo_dataset

    data = write_yolo_dataset(
        [replace(i, split="train") for i in images], CLASSES, out / "data"
    )
    config = validate_model_config({**TRAINING, "epochs": epochs, "patience": 0})
    config["val"] = False
    return backend.train(data, "yolov8n.yaml", out / "run", config).weights_path


def as_items(images: Sequence[GroundTruthImage], predictions) -> list[tuple]:
    """``(index, labels, detections)`` per image, for ml.errors / ml.label_errors."""
    return [
        (n, img.shapes, p.detections)
        for n, (img, p) in enumerate(zip(images, predictions, strict=True))
    ]
