"""Write ground truth as a YOLO dataset folder (images, labels, data.yaml)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from PIL import Image

from ml.geometry import box_to_points, polygon_bbox, to_yolo_box, to_yolo_polygon
from ml.types import SPLITS, BoxShape, GroundTruthImage, PolygonShape, Shape

logger = logging.getLogger(__name__)

# Formats both ultralytics (by extension) and OpenCV read; anything else is
# converted to PNG rather than rejected.
LINKABLE_SUFFIXES = frozenset(
    {".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def write_yolo_dataset(
    images: Sequence[GroundTruthImage],
    class_names: Sequence[str],
    out_dir: Path,
    *,
    task: Literal["detect", "segment"] = "detect",
    splits: Sequence[str] = SPLITS,
    link: bool = True,
) -> Path:
    """Write ``images`` whose split is in ``splits`` and return data.yaml's path.

    Layout: ``images/<split>/<n>_<stem>.<ext>`` (a symlink to the source, or a
    copy where symlinks fail or ``link`` is False; PNG conversion for formats
    ultralytics cannot read), ``labels/<split>/<same stem>.txt`` in YOLO
    normalised coordinates (detect: one box per shape, polygons reduced to
    their bounding box; segment: one polygon per shape, boxes as 4-point
    polygons; images without shapes get an empty file = background), and
    ``data.yaml`` with an absolute ``path:`` and no ``download:`` key.

    Empty splits, because ultralytics refuses an empty ``train`` or ``val``:
    an empty train uses val (else test), an empty val uses train, and an
    empty test is left out of data.yaml. Each fallback is logged as a warning
    and written as a comment at the top of data.yaml.

    Raises ValueError when ``out_dir`` is not empty, a split name or ``task``
    is unknown, a shape's label is not in ``class_names``, or no image falls
    in ``splits``. Raises OSError when a source image cannot be read.
    """
    if task not in ("detect", "segment"):
        raise ValueError(f"task must be 'detect' or 'segment', got {task!r}")
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"unknown split {unknown[0]!r}")
    if not class_names or len(set(class_names)) != len(class_names):
        raise ValueError("class_names must be non-empty and unique")
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty")
    class_ids = {name: i for i, name in enumerate(class_names)}

    counts = {s: 0 for s in splits}
    for n, img in enumerate(images):
        if img.split not in counts:
            continue
        lines = [_label_line(shape, class_ids, img, task) for shape in img.shapes]
        name = _safe_name(n, img.path)
        image_dir = out_dir / "images" / img.split
        label_dir = out_dir / "labels" / img.split
        image_dir.mkdir(parents=True, exist_ok=True)
        label_dir.mkdir(parents=True, exist_ok=True)
        _place_image(Path(img.path), image_dir, name, link)
        text = "\n".join(line for line in lines if line)
        (label_dir / f"{name}.txt").write_text(text + "\n" if text else "")
        counts[img.split] += 1
    if not any(counts.values()):
        raise ValueError("no images in the requested splits")

    entries, warnings = _split_entries(counts)
    for w in warnings:
        logger.warning("%s: %s", out_dir, w)
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(_yaml(out_dir, entries, class_names, warnings))
    return data_yaml


def safe_stem(name: str) -> str:
    """A file-name stem made of letters, digits, _ and - only (at most 40)."""
    return _UNSAFE.sub("_", Path(name).stem)[:40].strip("_")


def _safe_name(n: int, source: str) -> str:
    stem = safe_stem(source)
    return f"{n:06d}_{stem}" if stem else f"{n:06d}"


def _place_image(source: Path, image_dir: Path, name: str, link: bool) -> None:
    suffix = source.suffix.lower()
    if suffix not in LINKABLE_SUFFIXES:
        with Image.open(source) as im:
            im.convert("RGB").save(image_dir / f"{name}.png")
        return
    target = image_dir / f"{name}{suffix}"
    if link:
        try:
            os.symlink(source.resolve(), target)
            return
        except OSError:
            pass  # e.g. a filesystem without symlinks: copy instead
    shutil.copyfile(source, target)


def _label_line(
    shape: Shape, class_ids: dict[str, int], img: GroundTruthImage, task: str
) -> str:
    if shape.label not in class_ids:
        raise ValueError(f"{img.path}: label {shape.label!r} is not in class_names")
    if not isinstance(shape, BoxShape | PolygonShape):
        raise ValueError(f"{img.path}: unsupported shape {type(shape).__name__}")
    return (
        yolo_label_line(shape, class_ids[shape.label], img.width, img.height, task=task)
        or ""
    )


def yolo_label_line(
    shape: Shape, class_id: int, width: int, height: int, *, task: str
) -> str | None:
    """One line of a YOLO label file in normalised coordinates: detect, the box
    (a polygon's bounding box); segment, the polygon (a box's 4 corners).

    None for a shape with no area inside the image (entirely outside, or on its
    edge): clipped to the image it is nothing to learn from, in either task.
    """
    if isinstance(shape, BoxShape):
        bbox, points = shape.bbox, box_to_points(shape.bbox)
    else:
        bbox, points = polygon_bbox(shape.points), shape.points
    box = to_yolo_box(bbox, width, height)
    if box[2] <= 0 or box[3] <= 0:
        return None
    values = box if task == "detect" else to_yolo_polygon(points, width, height)
    return " ".join([str(class_id), *(f"{v:.6f}" for v in values)])


def _split_entries(counts: dict[str, int]) -> tuple[dict[str, str], list[str]]:
    """Map data.yaml keys to image folders, falling back for empty splits."""
    present = {s: f"images/{s}" for s, c in counts.items() if c}
    warnings = []
    entries: dict[str, str] = {}
    if "train" in present:
        entries["train"] = present["train"]
    else:
        fallback = "val" if "val" in present else "test"
        entries["train"] = present[fallback]
        warnings.append(f"train split is empty; train points at the {fallback} images")
    if "val" in present:
        entries["val"] = present["val"]
    else:
        entries["val"] = entries["train"]
        warnings.append(
            "val split is empty; val reuses the train images, so validation "
            "metrics are optimistic"
        )
    if "test" in present:
        entries["test"] = present["test"]
    elif "test" in counts:
        warnings.append("test split is empty; data.yaml has no test key")
    return entries, warnings


def _yaml(
    root: Path, entries: dict[str, str], names: Sequence[str], warnings: list[str]
) -> str:
    # JSON scalars are valid YAML, which spares a YAML dependency and quotes
    # any class name safely.
    lines = [f"# warning: {w}" for w in warnings]
    lines.append(f"path: {json.dumps(str(root))}")
    lines += [f"{key}: {json.dumps(value)}" for key, value in entries.items()]
    lines.append("names:")
    lines += [f"  {i}: {json.dumps(name)}" for i, name in enumerate(names)]
    return "\n".join(lines) + "\n"
