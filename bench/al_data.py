"""A benchmark set that looks like production data, for the active-learning backtest.

Images of 160 x 160 px with 1-3 objects of four classes (circle, square,
triangle, star). The class is the shape; colours are drawn independently of the
class. Like data from fixed cameras:

* **easy, redundant** (75 %): near-duplicates of 40 scenes (background and
  object layout fixed per scene, jittered by a few pixels and a little colour);
* **hard** (25 %): unique scenes of one of three kinds — *small* objects
  (10-16 px), *faint* objects (25-40 % contrast to the background), or
  *cluttered* backgrounds full of grey distractor blobs;
* **rare class**: stars appear in 2 of the 40 scenes and in 10 % of the hard
  objects (about 4 % of all objects).

Every image has the same distribution of object counts, so a strategy cannot
win by picking images with more objects. A separate *generic* set (other
shapes: ring, cross, diamond, bar) pretrains the base model, the way a team
starts from public pretrained weights.

Writes ``images/`` and a COCO ``annotations.json`` (boxes; the tag of each
image — easy, small, faint, clutter — in its extra fields).

Usage: .venv/bin/python bench/al_data.py OUT_DIR [--pool 1200] [--test 400]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 160
CLASSES = ("circle", "square", "triangle", "star")
GENERIC = ("ring", "cross", "diamond", "bar")
PALETTE = [
    (215, 55, 55), (50, 80, 215), (40, 160, 70), (200, 160, 30),
    (150, 60, 190), (30, 170, 180), (230, 120, 40), (90, 90, 90),
]  # fmt: skip


def _draw(draw: ImageDraw.ImageDraw, label: str, x, y, s, colour) -> None:
    cx, cy, r = x + s / 2, y + s / 2, s / 2
    if label == "circle":
        draw.ellipse([x, y, x + s, y + s], fill=colour)
    elif label == "square":
        draw.rectangle([x, y, x + s, y + s], fill=colour)
    elif label == "triangle":
        draw.polygon([(cx, y), (x + s, y + s), (x, y + s)], fill=colour)
    elif label == "star":
        pts = []
        for k in range(10):
            rr = r if k % 2 == 0 else r * 0.45
            a = math.pi * k / 5 - math.pi / 2
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=colour)
    elif label == "ring":
        draw.ellipse([x, y, x + s, y + s], outline=colour, width=max(2, int(s / 6)))
    elif label == "cross":
        w = s / 3
        draw.rectangle([x, cy - w / 2, x + s, cy + w / 2], fill=colour)
        draw.rectangle([cx - w / 2, y, cx + w / 2, y + s], fill=colour)
    elif label == "diamond":
        draw.polygon([(cx, y), (x + s, cy), (cx, y + s), (x, cy)], fill=colour)
    else:  # bar
        draw.rectangle([x, cy - s / 6, x + s, cy + s / 6], fill=colour)


def _place(rng: random.Random, n: int, lo: float, hi: float) -> list[tuple]:
    out: list[tuple] = []
    for _ in range(n):
        for _attempt in range(40):
            s = rng.uniform(lo, hi)
            x, y = rng.uniform(1, SIZE - s - 1), rng.uniform(1, SIZE - s - 1)
            if all(
                x + s + 3 < bx or bx + bs + 3 < x or y + s + 3 < by or by + bs + 3 < y
                for bx, by, bs in out
            ):
                out.append((x, y, s))
                break
    return out


def _count(rng: random.Random) -> int:
    return rng.choice([1, 1, 2, 2, 3])


def _scenes(rng: random.Random, n: int) -> list[tuple]:
    scenes = []
    for t in range(n):
        bg = tuple(rng.randint(150, 235) for _ in range(3))
        spots = _place(rng, _count(rng), 24, 44)
        labels = [rng.choice(CLASSES[:3]) for _ in spots]
        if t in (0, 1):
            labels[0] = "star"
        colours = [rng.choice(PALETTE) for _ in spots]
        scenes.append((bg, list(zip(labels, spots, colours, strict=True))))
    return scenes


def _render(rng, bg, objects, *, faint=False, clutter=False):
    img = Image.new("RGB", (SIZE, SIZE), bg)
    draw = ImageDraw.Draw(img)
    if clutter:
        for _ in range(rng.randint(14, 24)):
            s = rng.uniform(6, 30)
            x, y = rng.uniform(-5, SIZE), rng.uniform(-5, SIZE)
            g = rng.randint(70, 200)
            colour = (g + rng.randint(-15, 15), g, g + rng.randint(-15, 15))
            box = [x, y, x + s, y + s * rng.uniform(0.3, 1.0)]
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    boxes = []
    for label, (x, y, s), colour in objects:
        if faint:
            a = rng.uniform(0.25, 0.4)
            colour = tuple(int(bg[i] * (1 - a) + colour[i] * a) for i in range(3))
        colour = tuple(max(0, min(255, v + rng.randint(-12, 12))) for v in colour)
        _draw(draw, label, x, y, s, colour)
        boxes.append((label, [round(x, 2), round(y, 2), round(s, 2), round(s, 2)]))
    px = img.load()
    for _ in range(SIZE * SIZE // 6):
        i, j = rng.randrange(SIZE), rng.randrange(SIZE)
        d = rng.randint(-12, 12)
        px[i, j] = tuple(max(0, min(255, v + d)) for v in px[i, j])
    return img, boxes


def generate(out: Path, n: int, seed: int, *, generic: bool = False) -> Path:
    """Write ``n`` images and ``annotations.json`` under ``out``; return its path."""
    rng = random.Random(seed)
    scenes = _scenes(random.Random(4242), 40)
    classes = GENERIC if generic else CLASSES
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(n):
        if generic:
            tag = "generic"
            bg = tuple(rng.randint(120, 235) for _ in range(3))
            spots = _place(rng, _count(rng), 12, 44)
            objs = [(rng.choice(GENERIC), s, rng.choice(PALETTE)) for s in spots]
            img, boxes = _render(rng, bg, objs, clutter=rng.random() < 0.3)
        elif rng.random() < 0.25:
            tag = rng.choice(["small", "faint", "clutter"])
            bg = tuple(rng.randint(120, 235) for _ in range(3))
            lo, hi = (10, 16) if tag == "small" else (20, 40)
            spots = _place(rng, _count(rng), lo, hi)
            objs = [
                (
                    "star" if rng.random() < 0.10 else rng.choice(CLASSES[:3]),
                    s,
                    rng.choice(PALETTE),
                )
                for s in spots
            ]
            img, boxes = _render(
                rng, bg, objs, faint=tag == "faint", clutter=tag == "clutter"
            )
        else:
            tag = "easy"
            scene = rng.randrange(len(scenes))
            bg, objs = scenes[scene]
            bg = tuple(max(0, min(255, v + rng.randint(-8, 8))) for v in bg)
            objs = [
                (label, (x + rng.uniform(-3, 3), y + rng.uniform(-3, 3), s), colour)
                for label, (x, y, s), colour in objs
            ]
            img, boxes = _render(rng, bg, objs)
            tag = f"easy:{scene}"
        name = f"{i:05d}.png"
        img.save(out / "images" / name)
        images.append(
            {"id": i + 1, "file_name": name, "width": SIZE, "height": SIZE, "tag": tag}
        )
        for label, bbox in boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": classes.index(label) + 1,
                    "bbox": bbox,
                    "area": round(bbox[2] * bbox[3], 2),
                    "iscrowd": 0,
                }
            )
    doc = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": c} for k, c in enumerate(classes)],
    }
    path = out / "annotations.json"
    path.write_text(json.dumps(doc))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--pool", type=int, default=1200)
    ap.add_argument("--test", type=int, default=400)
    ap.add_argument("--generic", type=int, default=600)
    args = ap.parse_args()
    print(generate(args.out / "pool", args.pool, 1))
    print(generate(args.out / "test", args.test, 2))
    print(generate(args.out / "generic", args.generic, 3, generic=True))


if __name__ == "__main__":
    main()
