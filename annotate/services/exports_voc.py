"""Pascal VOC export: a zip with JPEGImages/, Annotations/<name>.xml and
ImageSets/Main/{train,val,test}.txt from the managed split.

VOC has boxes only: a polygon is written as its bounding box. Coordinates follow
VOC (1-based, inclusive): xmin = x + 1, xmax = x + w, so that
annotate.services.imports_zip reads them back to the same [x, y, w, h].
"""

import shutil
import zipfile

from annotate import formats
from annotate.models import Item, Project
from annotate.selectors import item_count_ground_truth
from annotate.services.export_rows import (
    Progress,
    annotations_of,
    ground_truth_item_chunks,
)
from ml.datasets import safe_stem
from ml.geometry import polygon_bbox


def _num(value: float) -> str:
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text(tag: str, value: str, indent: str) -> str:
    if not value:
        return f"{indent}<{tag} />\n"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{indent}<{tag}>{value}</{tag}>\n"


def voc_xml(*, file_name: str, width: int, height: int, shapes) -> bytes:
    """One VOC annotation document; `shapes` are (kind, label, geometry).

    Written as text, byte for byte what ElementTree's indent and tostring give
    (tests/annotate/test_voc_xml.py): building the tree cost 200 us a
    document, 10 s of a 50,000-image export's CPU."""
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n<annotation>\n",
        "  <folder>JPEGImages</folder>\n",
        _text("filename", file_name, "  "),
        f"  <size>\n    <width>{width}</width>\n    <height>{height}</height>\n"
        "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n",
    ]
    for kind, label, geometry in shapes:
        if kind == "box":
            x, y, w, h = geometry["bbox"]
        else:
            x, y, w, h = polygon_bbox(geometry["points"])
        parts.append("  <object>\n")
        parts.append(_text("name", label, "    "))
        parts.append(
            "    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n"
            "    <difficult>0</difficult>\n    <bndbox>\n"
            f"      <xmin>{_num(x + 1)}</xmin>\n      <ymin>{_num(y + 1)}</ymin>\n"
            f"      <xmax>{_num(x + w)}</xmax>\n      <ymax>{_num(y + h)}</ymax>\n"
            "    </bndbox>\n  </object>\n"
        )
    parts.append("</annotation>\n")
    return "".join(parts).encode()


def voc_write(*, project: Project, fileobj, progress: Progress | None = None) -> int:
    """Write the ground truth as a VOC zip into `fileobj`; returns the image
    count. Images missing on disk are left out (and named in README.txt)."""
    labels = set(project.labels)
    storage = Item._meta.get_field("file").storage
    total = max(1, item_count_ground_truth(project=project))
    sets: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    missing, seen = [], 0
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for chunk in ground_truth_item_chunks(project):
            shapes_of: dict[int, list] = {}
            for item_id, kind, label, geometry, *_rest in annotations_of(
                row[0] for row in chunk
            ):
                if label in labels:
                    shapes_of.setdefault(item_id, []).append((kind, label, geometry))
            for pk, name, width, height, split, fmt, stored, *_rest in chunk:
                stem = safe_stem(name)
                base = f"{pk:08d}_{stem}" if stem else f"{pk:08d}"
                image = f"{base}.{formats.image_format(fmt).extension}"
                try:
                    with (
                        storage.open(stored, "rb") as src,
                        zf.open(f"JPEGImages/{image}", "w") as dst,
                    ):
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                except (OSError, ValueError):
                    missing.append(base)
                    continue
                zf.writestr(
                    f"Annotations/{base}.xml",
                    voc_xml(
                        file_name=image,
                        width=width,
                        height=height,
                        shapes=shapes_of.get(pk, []),
                    ),
                )
                sets[split or "train"].append(base)
            seen += len(chunk)
            if progress:
                progress(seen / total)
        for split, bases in sets.items():
            zf.writestr(f"ImageSets/Main/{split}.txt", "".join(f"{b}\n" for b in bases))
        if missing:
            zf.writestr(
                "README.txt",
                f"{len(missing)} images missing on disk were left out:\n"
                + "".join(f"{b}\n" for b in missing),
            )
    return sum(len(b) for b in sets.values())
