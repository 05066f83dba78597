"""COCO import: annotations for existing items, all-or-nothing per file."""

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from annotate import coco
from annotate.models import Item, ItemStatus, Project, Split
from annotate.selectors import item_splits_frozen
from annotate.services.annotations import annotations_replace_many
from annotate.services.events import event_log
from annotate.services.labeling import items_make_ground_truth
from annotate.services.pipeline import project_labels_update
from annotate.services.predictions import ItemPredictions, item_predictions_replace
from annotate.services.projects import project_lock
from ml.datasets import safe_stem
from ml.geometry import GeometryError, validate_shapes

IMPORT_AS = ("ground_truth", "predictions")
MAX_ERRORS = 200
# Predictions imported from a file carry this pseudo model version ("model:0").
IMPORTED_MODEL_VERSION = 0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


class ImportErrors(list):
    def add(self, where: str, reason: str) -> None:
        if len(self) < MAX_ERRORS:
            self.append(f"{where}: {reason}")
        elif len(self) == MAX_ERRORS:
            self.append("... more errors left out")


YOLO_EXPORT_NAME = re.compile(r"^(?P<pk>\d{8,19})(?:_(?P<stem>[\w-]+))?(?:\.\w+)?$")
IMPORT_SPLITS = ("keep", "redraw")
IMPORT_CATEGORIES = ("refuse", "add")
IMAGE_STATUSES = ("done", "review")


@dataclass
class CocoParsed:
    """A checked COCO document: shapes per item, what the file says of each
    item's split and status, the labels it would add, and what was converted."""

    shapes: dict[int, list[dict]] = field(default_factory=dict)
    splits: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    labels_added: list[str] = field(default_factory=list)
    converted: Counter = field(default_factory=Counter)


def match_items(project: Project, names: list[str]) -> dict[str, list[int]]:
    """file_name -> item ids. Tried in turn, the first that finds any item wins:
    the upload's relative path; the path without its leading folders, one at a
    time (another tool's "images/train/cam1/a.png" finds "cam1/a.png"); the base
    name as display name or stored file name; "<stem>~<id>.<ext>" and
    "item_<id>.<ext>" as the exporter writes them."""
    by_path: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    by_stem: dict[str, list[int]] = {}
    by_safe_stem: dict[str, list[int]] = {}
    by_id: dict[int, tuple[str, str]] = {}
    for pk, path, original, stored, fmt in Item.objects.filter(
        project=project
    ).values_list("pk", "source_path", "original_name", "file", "image_format"):
        if path:
            by_path.setdefault(path, []).append(pk)
        by_name.setdefault(original, []).append(pk)
        by_stem.setdefault(original.rsplit(".", 1)[0], []).append(pk)
        by_safe_stem.setdefault(safe_stem(original), []).append(pk)
        base = stored.rsplit("/", 1)[-1]
        if base != original:
            by_name.setdefault(base, []).append(pk)
        by_id[pk] = (coco.item_base_name(pk, path, original, fmt), original)
    found: dict[str, list[int]] = {}
    for name in names:
        parts = name.split("/")
        ids: list[int] = []
        for i in range(len(parts)):
            ids = by_path.get("/".join(parts[i:]), [])
            if ids:
                break
        if not ids:
            ids = by_name.get(parts[-1], [])
        if not ids:
            ids = _exporter_name_match(name, by_id, by_safe_stem)
        if not ids and "." not in parts[-1]:  # a YOLO label file without its image
            ids = by_stem.get(parts[-1], [])
        found[name] = ids
    return found


def _exporter_name_match(
    name: str, by_id: dict[int, tuple[str, str]], by_safe_stem: dict[str, list[int]]
) -> list[int]:
    dup = coco.DUPLICATE_SUFFIX.match(name)
    if dup:
        pk = int(dup["pk"])
        base = by_id.get(pk, ("", ""))[0]
        if base and coco.unique_file_name(base, pk, {base}) == name:
            return [pk]
    leaf = name.rsplit("/", 1)[-1]
    yolo = YOLO_EXPORT_NAME.match(leaf)  # "<id:08d>_<safe stem>.<ext>"
    if yolo:
        pk, stem = int(yolo["pk"]), yolo["stem"] or ""
        if pk in by_id and safe_stem(by_id[pk][1]) == stem:
            return [pk]
        if stem:  # another project's export: the same image names
            return by_safe_stem.get(stem, [])
    if leaf.startswith("item_") and "." in leaf:
        stem = leaf[5:].split(".", 1)[0]
        if stem.isdigit() and by_id.get(int(stem), ("", "x"))[1] == "":
            return [int(stem)]
    return []


def _categories(document, project, category_map, add_labels, errors):
    """COCO category id -> project label, and the labels to add."""
    categories: dict[int, str] = {}
    unknown: list[str] = []
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
        elif not isinstance(name, str) or not name.strip() or len(name) > 64:
            errors.add(where, "name must be a string of 1 to 64 characters")
        else:
            label = category_map.get(name, name)
            if label not in project.labels and label not in unknown:
                unknown.append(label)
            categories[cid] = label
    if unknown and not add_labels:
        errors.add(
            "categories",
            "not labels of this project (map them with category_map or add them "
            f"with categories=add): {', '.join(repr(n[:64]) for n in unknown[:50])}",
        )
    return categories, unknown if add_labels else []


def _images(document, errors):
    images: dict[int, dict] = {}
    for i, img in enumerate(document["images"]):
        where = f"images[{i}]"
        if not isinstance(img, dict):
            errors.add(where, "not an object")
            continue
        iid, name = img.get("id"), img.get("file_name")
        split, status = img.get("split"), img.get("status")
        if not _is_int(iid):
            errors.add(where, "id must be an integer")
        elif iid in images:
            errors.add(where, f"duplicate id {iid}")
        elif not isinstance(name, str) or not name.strip("/") or len(name) > 1024:
            errors.add(where, "file_name must be a non-empty path of <= 1024 chars")
        elif "\x00" in name or "\\" in name:
            errors.add(where, "file_name must not hold NUL or backslashes")
        elif split is not None and split not in Split.values:
            errors.add(where, f"split must be one of {', '.join(Split.values)}")
        elif status is not None and status not in IMAGE_STATUSES:
            errors.add(where, f"status must be one of {', '.join(IMAGE_STATUSES)}")
        else:
            size = (img.get("width"), img.get("height"))
            images[iid] = {
                "size": size if all(_is_int(v) for v in size) else None,
                "name": "/".join(p for p in name.split("/") if p not in {"", "."}),
                "split": split,
                "status": status or "done",
            }
    return images


def coco_parse(
    *,
    project: Project,
    document,
    category_map: dict[str, str] | None = None,
    add_labels: bool = False,
) -> CocoParsed:
    """Validate a COCO document against the project; return what to write.

    Every problem is collected (up to MAX_ERRORS) and raised together as
    ValidationError({"file": [...]}) naming the JSON path; nothing is written.
    Conversions (counted in `converted`): an RLE region (crowd) becomes one
    polygon per outer contour, or its bounding box when the project has no
    polygons; a polygon of several rings becomes one polygon per ring; a polygon
    in a box-only project becomes its bounding box.
    """
    errors = ImportErrors()
    if not isinstance(document, dict):
        raise ValidationError({"file": ["the COCO file must be a JSON object"]})
    for key in ("images", "annotations", "categories"):
        if not isinstance(document.get(key), list):
            errors.add(key, "missing or not a list")
    if errors:
        raise ValidationError({"file": errors})
    parsed = CocoParsed()
    categories, parsed.labels_added = _categories(
        document, project, category_map or {}, add_labels, errors
    )
    labels = list(project.labels) + parsed.labels_added
    images = _images(document, errors)
    counts = Counter(img["name"] for img in images.values())
    for name, n in counts.items():
        if n > 1:
            errors.add("images", f"file_name {name[:80]!r} appears {n} times")
    matches = match_items(project, list(counts))
    item_of: dict[int, int] = {}
    for iid, img in images.items():
        ids = matches.get(img["name"], [])
        if not ids:
            errors.add(
                f"image {iid}", f"no item named {img['name'][:80]!r} in this project"
            )
        elif len(ids) > 1:
            errors.add(
                f"image {iid}", f"{len(ids)} items are named {img['name'][:80]!r}"
            )
        else:
            item_of[iid] = ids[0]
    items = Item.objects.in_bulk(list(item_of.values()))
    for iid, item_id in item_of.items():
        size = images[iid]["size"]
        if size and size != (items[item_id].width, items[item_id].height):
            errors.add(
                f"image {iid}",
                f"size {size[0]}x{size[1]} is not the image's "
                f"{items[item_id].width}x{items[item_id].height}",
            )
    matched = Counter(item_of.values())
    for iid, item_id in item_of.items():
        if matched[item_id] > 1:
            errors.add(f"image {iid}", f"item {item_id} is named by several images")

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
        confidence = ann.get("score")
        if confidence is not None and not (
            is_number(confidence) and 0 <= confidence <= 1
        ):
            errors.add(where, "score must be a number from 0 to 1")
            continue
        item = items.get(item_of.get(image_id))
        shapes = _coco_shapes(
            ann, categories[category_id], where, errors, item, project, parsed
        )
        if item is None:
            continue
        for shape in shapes:
            shape["_where"] = where
            shape["_score"] = None if confidence is None else float(confidence)
            shapes_of[image_id].append(shape)

    for iid, shapes in shapes_of.items():
        item = items[item_of[iid]]
        try:
            cleaned = validate_shapes(
                [{k: v for k, v in s.items() if not k.startswith("_")} for s in shapes],
                width=item.width,
                height=item.height,
                labels=labels,
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
        parsed.shapes[item.pk] = cleaned
        parsed.statuses[item.pk] = images[iid]["status"]
        if images[iid]["split"]:
            parsed.splits[item.pk] = images[iid]["split"]
    if errors:
        raise ValidationError({"file": list(errors)})
    return parsed


def _bbox_of(ann, where, errors):
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        errors.add(where, "bbox must be a list of 4 numbers [x, y, width, height]")
        return None
    return bbox


def _coco_shapes(ann, label, where, errors, item, project, parsed) -> list[dict]:
    """The alweb shapes of one COCO annotation (none after an error)."""
    polygons = "polygon" in project.kinds
    segmentation = ann.get("segmentation")
    if ann.get("shape") == "box" or segmentation in (None, []):
        bbox = _bbox_of(ann, where, errors)
        return [] if bbox is None else [{"kind": "box", "label": label, "bbox": bbox}]
    if isinstance(segmentation, dict):
        if item is None:
            return []
        try:
            kind, geometries = coco.rle_to_shapes(
                segmentation, height=item.height, width=item.width, polygons=polygons
            )
        except ValueError as exc:
            errors.add(where, str(exc))
            return []
        parsed.converted["rle_to_boxes" if kind == "box" else "rle_to_polygons"] += 1
        key = "points" if kind == "polygon" else "bbox"
        return [{"kind": kind, "label": label, key: g} for g in geometries]
    if not isinstance(segmentation, list) or not all(
        isinstance(ring, list) for ring in segmentation
    ):
        errors.add(where, "segmentation must be a list of polygons [[x1, y1, ...]]")
        return []
    if sum(len(ring) for ring in segmentation) > 200_000:
        errors.add(where, "segmentation has too many coordinates")
        return []
    if any(len(ring) % 2 for ring in segmentation):
        errors.add(where, "segmentation has an odd number of coordinates")
        return []
    if not polygons:
        bbox = _bbox_of(ann, where, errors)
        if bbox is None:
            return []
        parsed.converted["polygons_to_boxes"] += 1
        return [{"kind": "box", "label": label, "bbox": bbox}]
    if len(segmentation) > 1:
        parsed.converted["multi_ring_split"] += 1
    return [
        {
            "kind": "polygon",
            "label": label,
            "points": [[ring[j], ring[j + 1]] for j in range(0, len(ring), 2)],
        }
        for ring in segmentation
    ]


@transaction.atomic
def coco_import(
    *,
    project: Project,
    document,
    as_: str,
    actor,
    split: str = "keep",
    categories: str = "refuse",
    category_map: dict[str, str] | None = None,
) -> dict:
    """Apply a COCO document to the project's items, all or nothing.

    ground_truth: each listed image's annotations are replaced by the file's. An
    image with `"status": "review"` goes to the review queue (no split); the
    others become ground truth. split="keep" gives them the split the file names
    (train/val/test) and draws one only where it names none; "redraw" ignores the
    file's splits. An item already in a split keeps it and stays ground truth
    whatever the file says (the frozen test set never moves; counted in
    `splits_frozen`); its shapes are replaced.
    predictions: the item's model pre-annotations are replaced (source
    "model:0", score as confidence); human annotations are kept.
    categories="add" adds the file's unknown category names to the project's
    labels (the caller checks the permission); category_map renames file
    categories to project labels first. Raises ValidationError listing every
    problem; then nothing changes.
    """
    if as_ not in IMPORT_AS:
        raise ValidationError({"as": f"must be one of {', '.join(IMPORT_AS)}"})
    if split not in IMPORT_SPLITS:
        raise ValidationError({"split": f"must be one of {', '.join(IMPORT_SPLITS)}"})
    if categories not in IMPORT_CATEGORIES:
        raise ValidationError(
            {"categories": f"must be one of {', '.join(IMPORT_CATEGORIES)}"}
        )
    project_lock(project_id=project.pk)
    parsed = coco_parse(
        project=project,
        document=document,
        category_map=category_map,
        add_labels=categories == "add",
    )
    if parsed.labels_added:
        project = project_labels_update(
            project=project,
            actor=actor,
            labels=list(project.labels) + parsed.labels_added,
        )
    shapes_total = sum(len(shapes) for shapes in parsed.shapes.values())
    # Ground truth keeps its split and status (a frozen test set never moves):
    # the file's split and review state apply only to items not yet in a split.
    frozen = item_splits_frozen(project=project, item_ids=parsed.shapes)
    moved = sum(
        1
        for pk, name in frozen.items()
        if parsed.statuses.get(pk) == "review"
        or parsed.splits.get(pk) not in (None, name)
    )
    review = [
        pk
        for pk, status in parsed.statuses.items()
        if status == "review" and pk not in frozen
    ]
    kept = 0
    if as_ == "ground_truth":
        annotations_replace_many(shapes_of=parsed.shapes, author=actor)
        if review:
            Item.objects.filter(pk__in=review).update(
                status=ItemStatus.REVIEW, split=None, approved_at=None
            )
        done = [pk for pk in parsed.shapes if pk not in set(review)]
        if split == "keep":
            for name in Split.values:
                ids = [
                    pk
                    for pk in done
                    if parsed.splits.get(pk) == name and pk not in frozen
                ]
                kept += len(ids)
                if ids:
                    Item.objects.filter(pk__in=ids).update(
                        status=ItemStatus.DONE, split=name
                    )
        if done:
            items_make_ground_truth(project=project, item_ids=done, actor=actor)
    else:
        item_predictions_replace(
            project=project,
            model_version_id=IMPORTED_MODEL_VERSION,
            predictions=[
                ItemPredictions(item_id=item_id, shapes=shapes)
                for item_id, shapes in parsed.shapes.items()
            ],
            only_unlabeled=False,
        )
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="coco_imported",
        mode=as_,
        items=len(parsed.shapes),
        shapes=shapes_total,
    )
    return {
        "items": len(parsed.shapes),
        "annotations": shapes_total,
        "as": as_,
        "splits_kept": kept,
        "splits_frozen": moved if as_ == "ground_truth" else 0,
        "review": len(review) if as_ == "ground_truth" else 0,
        "labels_added": parsed.labels_added,
        "converted": dict(sorted(parsed.converted.items())),
    }
