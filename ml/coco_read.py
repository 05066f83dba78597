"""Read a COCO detection file into ground-truth images (boxes and polygons).

For the backtest's oracle: every image of the file with its shapes. Polygons
(one ring) become polygons, boxes without a segmentation become boxes; crowd
regions are skipped. Raises ValueError naming the first problem.
"""

from __future__ import annotations

import json
from pathlib import Path

from ml.types import BoxShape, GroundTruthImage, PolygonShape


def read_coco(
    annotations: Path, images_dir: Path
) -> tuple[list[str], list[GroundTruthImage], list[str]]:
    """(class names in category order, images in id order, each image's tag).

    The tag is the image's ``tag`` extra field when present (benchmarks use it
    to report slices), else "".
    """
    doc = json.loads(Path(annotations).read_text())
    if not isinstance(doc, dict):
        raise ValueError("the COCO file must be a JSON object")
    cats = sorted(doc.get("categories") or [], key=lambda c: c["id"])
    names = [str(c["name"]) for c in cats]
    name_of = {c["id"]: str(c["name"]) for c in cats}
    shapes: dict[int, list] = {}
    for ann in doc.get("annotations") or []:
        if ann.get("iscrowd"):
            continue
        label = name_of.get(ann.get("category_id"))
        if label is None:
            raise ValueError(f"annotation {ann.get('id')}: unknown category_id")
        seg = ann.get("segmentation")
        if (
            isinstance(seg, list)
            and seg
            and isinstance(seg[0], list)
            and len(seg[0]) >= 6
        ):
            flat = seg[0]
            pts = tuple(
                (float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat) - 1, 2)
            )
            shape = PolygonShape(label, pts)
        else:
            x, y, w, h = (float(v) for v in ann["bbox"])
            shape = BoxShape(label, (x, y, w, h))
        shapes.setdefault(ann["image_id"], []).append(shape)
    images, tags = [], []
    for img in sorted(doc.get("images") or [], key=lambda i: i["id"]):
        path = Path(images_dir) / img["file_name"]
        if not path.is_file():
            raise ValueError(f"image {img['id']}: {img['file_name']} not found")
        images.append(
            GroundTruthImage(
                str(path),
                int(img["width"]),
                int(img["height"]),
                tuple(shapes.get(img["id"], ())),
                "train",
            )
        )
        tags.append(str(img.get("tag", "")))
    return names, images, tags
