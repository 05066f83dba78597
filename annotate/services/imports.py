"""COCO import: annotations for existing items, all-or-nothing per file."""

import math
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Item, Project
from annotate.services.annotations import annotations_replace
from annotate.services.events import event_log
from annotate.services.labeling import items_make_ground_truth
from annotate.services.predictions import ItemPredictions, item_predictions_replace
from ml.geometry import GeometryError, validate_shapes

IMPORT_AS = ("ground_truth", "predictions")
MAX_ERRORS = 200
# Predictions imported from a file carry this pseudo model version ("model:0").
IMPORTED_MODEL_VERSION = 0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


class _Errors(list):
    def add(self, where: str, reason: str) -> None:
        if len(self) < MAX_ERRORS:
            self.append(f"{where}: {reason}")
        elif len(self) == MAX_ERRORS:
            self.append("... more errors left out")


def _match_items(project: Project, names: list[str]) -> dict[str, list[int]]:
    """file_name -> item ids: by display name, or by the stored file's base name."""
    found: dict[str, list[int]] = {n: [] for n in names}
    wanted = set(names)
    for pk, original, stored in Item.objects.filter(project=project).values_list(
        "pk", "original_name", "file"
    ):
        base = stored.rsplit("/", 1)[-1]
        if original in wanted:
            found[original].append(pk)
        elif base in wanted:
            found[base].append(pk)
    # Files named item_<id>.<ext> by the exporter (empty display names).
    for name, ids in found.items():
        if not ids and name.startswith("item_") and "." in name:
            stem = name[5:].split(".", 1)[0]
            if stem.isdigit():
                found[name] = list(
                    Item.objects.filter(
                        project=project, pk=int(stem), original_name=""
                    ).values_list("pk", flat=True)
                )
    return found


def coco_parse(*, project: Project, document) -> dict[int, list[dict]]:
    """Validate a COCO document against the project; return {item id: shapes}.

    Every problem is collected (up to MAX_ERRORS) and raised together as
    ValidationError({"file": [...]}) naming the JSON path; nothing is written.
    """
    errors = _Errors()
    if not isinstance(document, dict):
        raise ValidationError({"file": ["the COCO file must be a JSON object"]})
    for key in ("images", "annotations", "categories"):
        if not isinstance(document.get(key), list):
            errors.add(key, "missing or not a list")
    if errors:
        raise ValidationError({"file": errors})

    categories: dict[int, str] = {}
    for i, cat in enumerate(document["categories"]):
        where = f"categories[{i}]"
        if not isinstance(cat, dict):
            errors.add(where, "not an object")
            continue
        cid, name = cat.get("id"), cat.get("name")
        if not _is_int(cid):
            errors.add(where, "id must be an integer")
        elif cid in categories:
            errors.add(where, f"duplicate id {cid}")
        elif not isinstance(name, str):
            errors.add(where, "name must be a string")
        elif name not in project.labels:
            errors.add(where, f"category {name[:80]!r} is not a label of this project")
        else:
            categories[cid] = name

    images: dict[int, str] = {}
    for i, img in enumerate(document["images"]):
        where = f"images[{i}]"
        if not isinstance(img, dict):
            errors.add(where, "not an object")
            continue
        iid, name = img.get("id"), img.get("file_name")
        if not _is_int(iid):
            errors.add(where, "id must be an integer")
        elif iid in images:
            errors.add(where, f"duplicate id {iid}")
        elif not isinstance(name, str) or not name:
            errors.add(where, "file_name must be a non-empty string")
        elif "/" in name or "\\" in name or name in {".", ".."} or "\x00" in name:
            errors.add(where, "file_name must be a plain file name (no path)")
        else:
            images[iid] = name
    counts = Counter(images.values())
    for name, n in counts.items():
        if n > 1:
            errors.add("images", f"file_name {name[:80]!r} appears {n} times")
    matches = _match_items(project, list(counts))
    item_of: dict[int, int] = {}
    for iid, name in images.items():
        ids = matches.get(name, [])
        if not ids:
            errors.add(f"image {iid}", f"no item named {name[:80]!r} in this project")
        elif len(ids) > 1:
            errors.add(f"image {iid}", f"{len(ids)} items are named {name[:80]!r}")
        else:
            item_of[iid] = ids[0]

    shapes_of: dict[int, list[dict]] = {iid: [] for iid in item_of}
    seen_ids: set[int] = set()
    for i, ann in enumerate(document["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            errors.add(where, "not an object")
            continue
        aid = ann.get("id")
        if not _is_int(aid):
            errors.add(where, "id must be an integer")
        elif aid in seen_ids:
            errors.add(where, f"duplicate id {aid}")
        else:
            seen_ids.add(aid)
        image_id, category_id = ann.get("image_id"), ann.get("category_id")
        if not _is_int(image_id) or image_id not in images:
            errors.add(where, "image_id points to no image")
            continue
        if not _is_int(category_id) or category_id not in categories:
            errors.add(where, "category_id points to no category")
            continue
        shape = _coco_shape(ann, categories[category_id], where, errors)
        if shape is not None and image_id in shapes_of:
            shape["_where"] = where
            shapes_of[image_id].append(shape)
        confidence = ann.get("score")
        if confidence is not None and not (
            _is_number(confidence) and 0 <= confidence <= 1
        ):
            errors.add(where, "score must be a number from 0 to 1")
        elif shape is not None and confidence is not None:
            shape["_score"] = float(confidence)

    result: dict[int, list[dict]] = {}
    items = Item.objects.in_bulk(list(item_of.values()))
    for iid, shapes in shapes_of.items():
        item = items[item_of[iid]]
        try:
            cleaned = validate_shapes(
                [{k: v for k, v in s.items() if not k.startswith("_")} for s in shapes],
                width=item.width,
                height=item.height,
                labels=project.labels,
                kinds=project.kinds,
                max_shapes=10_000,
            )
        except GeometryError as exc:
            where = (
                shapes[exc.index]["_where"] if exc.index is not None else f"image {iid}"
            )
            errors.add(where, exc.reason)
            continue
        for raw, shape in zip(shapes, cleaned, strict=True):
            shape["confidence"] = raw.get("_score")
        result[item.pk] = cleaned
    if errors:
        raise ValidationError({"file": list(errors)})
    return result


def _coco_shape(ann: dict, label: str, where: str, errors: _Errors) -> dict | None:
    if ann.get("iscrowd") not in (None, 0, False):
        errors.add(where, "iscrowd / RLE segmentation is not supported")
        return None
    segmentation = ann.get("segmentation", [])
    if isinstance(segmentation, dict):
        errors.add(where, "RLE segmentation is not supported")
        return None
    if segmentation in (None, []):
        bbox = ann.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            errors.add(where, "bbox must be a list of 4 numbers [x, y, width, height]")
            return None
        return {"kind": "box", "label": label, "bbox": bbox}
    if (
        not isinstance(segmentation, list)
        or len(segmentation) != 1
        or not isinstance(segmentation[0], list)
    ):
        errors.add(where, "segmentation must hold exactly one polygon [[x1, y1, ...]]")
        return None
    flat = segmentation[0]
    if len(flat) % 2:
        errors.add(where, "segmentation has an odd number of coordinates")
        return None
    if len(flat) > 200_000:
        errors.add(where, "segmentation has too many coordinates")
        return None
    points = [[flat[j], flat[j + 1]] for j in range(0, len(flat), 2)]
    return {"kind": "polygon", "label": label, "points": points}


@transaction.atomic
def coco_import(*, project: Project, document, as_: str, actor) -> dict:
    """Apply a COCO document to the project's items, all or nothing.

    ground_truth: each listed image's annotations are replaced by the file's and
    the item becomes ground truth (its split, once set, never changes).
    predictions: the item's model pre-annotations are replaced (source
    "model:0", score as confidence); human annotations are kept. Raises
    ValidationError listing every problem; then nothing changes.
    """
    if as_ not in IMPORT_AS:
        raise ValidationError({"as": f"must be one of {', '.join(IMPORT_AS)}"})
    parsed = coco_parse(project=project, document=document)
    shapes_total = sum(len(shapes) for shapes in parsed.values())
    if as_ == "ground_truth":
        items = Item.objects.in_bulk(list(parsed))
        for item_id, shapes in parsed.items():
            annotations_replace(item=items[item_id], shapes=shapes, author=actor)
    else:
        item_predictions_replace(
            project=project,
            model_version_id=IMPORTED_MODEL_VERSION,
            predictions=[
                ItemPredictions(item_id=item_id, shapes=shapes)
                for item_id, shapes in parsed.items()
            ],
            only_unlabeled=False,
        )
    if as_ == "ground_truth" and parsed:
        items_make_ground_truth(project=project, item_ids=list(parsed), actor=actor)
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="coco_imported",
        mode=as_,
        items=len(parsed),
        shapes=shapes_total,
    )
    return {"items": len(parsed), "annotations": shapes_total, "as": as_}
