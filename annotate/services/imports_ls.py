"""Label Studio JSON import (its "JSON" export: a list of tasks with
annotations and predictions), read into a COCO document and applied by
annotate.services.imports.coco_import: same checks, all or nothing, same report.

Regions taken: `rectanglelabels` (x, y, width, height in percent of the image;
a rotated one becomes its rotated polygon) and `polygonlabels` (points in
percent). Other region types (brushes, keypoints, choices, text) are listed as
errors so that nothing is dropped silently. Per task the last annotation not
cancelled is the ground truth; as predictions, the task's last prediction (its
region `score`, else the prediction's). The image is matched by the path of
`data.image` (URL scheme and host dropped, Label Studio's 8-hex upload prefix
"1a2b3c4d-" removed), like a COCO file_name.
"""

import math
import re
from urllib.parse import unquote, urlparse

from django.core.exceptions import ValidationError

from annotate.selectors import item_sizes
from annotate.services.coco_source import DocumentSource
from annotate.services.imports import ImportErrors, coco_import, is_number, match_items

UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(?=.)")
REGION_TYPES = {"rectanglelabels": "rectangle", "polygonlabels": "polygon"}


def image_name(url) -> str | None:
    """The file name a task's image is matched by (None when there is none)."""
    if not isinstance(url, str) or not url.strip():
        return None
    path = unquote(urlparse(url.strip()).path or "")
    if "?d=" in url:  # local files storage: /data/local-files/?d=folder/a.png
        path = unquote(url.split("?d=", 1)[1])
    parts = [p for p in path.split("/") if p not in {"", "."}]
    if parts[:2] == ["data", "upload"]:
        parts = parts[3:] if len(parts) > 3 else parts[2:]
    if not parts:
        return None
    parts[-1] = UPLOAD_PREFIX.sub("", parts[-1])
    return "/".join(parts)[:1024]


def _percent(value) -> bool:
    return is_number(value) and -1 <= value <= 101


def _region(result, where, errors, width, height, categories):
    """One COCO annotation (without ids) of a Label Studio region, or None."""
    if not isinstance(result, dict):
        errors.add(where, "not an object")
        return None
    kind = result.get("type")
    value = result.get("value")
    if kind not in REGION_TYPES:
        errors.add(where, f"region type {str(kind)[:40]!r} is not imported")
        return None
    if not isinstance(value, dict):
        errors.add(where, "value must be an object")
        return None
    names = value.get(kind)
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        errors.add(where, f"{kind} must name exactly one label")
        return None
    category = categories.setdefault(names[0][:64], len(categories) + 1)
    score = result.get("score")
    record = {"category_id": category}
    if score is not None:
        record["score"] = score
    if kind == "rectanglelabels":
        x, y, w, h = (value.get(k) for k in ("x", "y", "width", "height"))
        rotation = value.get("rotation", 0) or 0
        if not all(_percent(v) for v in (x, y, w, h)) or not is_number(rotation):
            errors.add(where, "x, y, width, height must be numbers in percent")
            return None
        px = [x * width / 100, y * height / 100, w * width / 100, h * height / 100]
        if rotation % 360 == 0:
            return {**record, "bbox": px, "shape": "box"}
        # Label Studio rotates a rectangle about its top-left corner.
        cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
        ring = []
        for dx, dy in ((0, 0), (px[2], 0), (px[2], px[3]), (0, px[3])):
            ring += [px[0] + dx * cos - dy * sin, px[1] + dx * sin + dy * cos]
        return {**record, **_ring(ring)}
    points = value.get("points")
    if (
        not isinstance(points, list)
        or not 3 <= len(points) <= 10_000
        or not all(
            isinstance(p, list) and len(p) == 2 and all(_percent(c) for c in p)
            for p in points
        )
    ):
        errors.add(where, "points must be 3 or more [x, y] pairs in percent")
        return None
    ring = [c for x, y in points for c in (x * width / 100, y * height / 100)]
    return {**record, **_ring(ring)}


def _ring(ring: list[float]) -> dict:
    xs, ys = ring[0::2], ring[1::2]
    bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return {"segmentation": [ring], "bbox": bbox}


def _chosen(task: dict, as_: str):
    """(key, index, results) of the annotation or prediction taken, or None."""
    key = "annotations" if as_ == "ground_truth" else "predictions"
    entries = task.get(key) or []
    if not isinstance(entries, list):
        return key, None, "must be a list"
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if isinstance(entry, dict) and not entry.get("was_cancelled"):
            results = entry.get("result")
            if not isinstance(results, list):
                return key, index, "result must be a list"
            score = entry.get("score")
            return (
                key,
                index,
                [
                    {**r, "score": score}
                    if isinstance(r, dict)
                    and r.get("score") is None
                    and score is not None
                    else r
                    for r in results
                ],
            )
    return key, None, None


def label_studio_document(*, project, tasks, as_: str, item_of=None) -> dict:
    """A COCO document of Label Studio tasks (see the module docstring).
    `item_of` ({image name: item id}) names the item of an image outright
    (the images of a zip, annotate.services.imports_ls_zip)."""
    errors = ImportErrors()
    if not isinstance(tasks, list):
        raise ValidationError({"file": ["a Label Studio export is a list of tasks"]})
    named = []
    for i, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        name = image_name(data.get("image")) if isinstance(data, dict) else None
        if name is None:
            errors.add(f"tasks[{i}]", "data.image names no image")
        named.append(name)
    item_of = item_of or {}
    matches = match_items(project, sorted({n for n in named if n} - set(item_of)))
    matches.update((name, [pk]) for name, pk in item_of.items())
    sizes = item_sizes(
        project=project, item_ids={i for ids in matches.values() for i in ids}
    )
    categories: dict[str, int] = {}
    images, annotations = [], []
    for i, (task, name) in enumerate(zip(tasks, named, strict=True)):
        ids = matches.get(name, []) if name else []
        if name and len(ids) != 1:
            errors.add(f"tasks[{i}]", f"{len(ids)} items match {name[:80]!r}")
        if len(ids) != 1:
            continue
        key, index, results = _chosen(task, as_)
        if isinstance(results, str):
            errors.add(f"tasks[{i}].{key}", results)
            continue
        if results is None:
            continue  # nothing labelled (or all cancelled): the task is left out
        width, height = sizes[ids[0]]
        images.append({"id": i + 1, "file_name": name})
        for j, result in enumerate(results):
            where = f"tasks[{i}].{key}[{index}].result[{j}]"
            record = _region(result, where, errors, width, height, categories)
            if record is not None:
                record.update(id=len(annotations) + 1, image_id=i + 1)
                annotations.append(record)
    if errors:
        raise ValidationError({"file": list(errors)})
    return {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": cid, "name": n} for n, cid in categories.items()],
    }


def label_studio_import(*, project, tasks, as_: str, item_of=None, **options) -> dict:
    """Import a Label Studio JSON export through coco_import; all or nothing."""
    document = label_studio_document(
        project=project, tasks=tasks, as_=as_, item_of=item_of
    )
    source = DocumentSource(document, item_of=item_of)
    return coco_import(project=project, source=source, as_=as_, **options)
