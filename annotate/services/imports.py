"""COCO import: annotations for existing items, all-or-nothing per file.

The file is checked and written in one pass over its annotations (streamed by
annotate.services.coco_source, checked by annotate.services.imports_check),
inside one transaction: shapes are inserted in bounded batches as they pass,
and any problem anywhere raises at the end, which rolls every write back.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from annotate.models import AnnotationSource, Item, ItemStatus, Project, Split
from annotate.selectors import item_splits_frozen
from annotate.services.annotations import AnnotationRows, annotations_clear
from annotate.services.coco_source import DocumentSource
from annotate.services.events import event_log
from annotate.services.imports_check import (
    ID_CHUNK,
    CocoCheck,
    ImportErrors,
    is_number,
)
from annotate.services.imports_match import match_items
from annotate.services.labeling import items_make_ground_truth
from annotate.services.pipeline import project_labels_update
from annotate.services.predictions import item_predictions_writer
from annotate.services.projects import project_lock

__all__ = [
    "IMPORT_AS",
    "IMPORT_CATEGORIES",
    "IMPORT_SPLITS",
    "ImportErrors",
    "coco_import",
    "is_number",
    "match_items",
]

IMPORT_AS = ("ground_truth", "predictions")
# Predictions imported from a file carry this pseudo model version ("model:0").
IMPORTED_MODEL_VERSION = 0
IMPORT_SPLITS = ("keep", "redraw")
IMPORT_CATEGORIES = ("refuse", "add")


def _chunks(ids: list[int]):
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


@transaction.atomic
def coco_import(
    *,
    project: Project,
    document=None,
    source=None,
    as_: str,
    actor,
    split: str = "keep",
    categories: str = "refuse",
    category_map: dict[str, str] | None = None,
) -> dict:
    """Apply a COCO document (or a `source` of annotate.services.coco_source: a
    streamed file) to the project's items, all or nothing.

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
    problem; then nothing changes (the shapes written so far roll back).
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
    check = CocoCheck(
        project=project,
        source=source if source is not None else DocumentSource(document),
        category_map=category_map,
        add_labels=categories == "add",
    )
    check.head()
    item_ids = [item.pk for item in check.items.values()]
    rows = None
    if not check.failed:
        if as_ == "ground_truth":
            annotations_clear(item_ids=item_ids)
            rows = AnnotationRows(source=AnnotationSource.HUMAN, author=actor)
        else:
            rows = item_predictions_writer(
                item_ids=item_ids, model_version_id=IMPORTED_MODEL_VERSION
            )
    for item_id, shape in check.shapes():
        if not check.failed:
            rows.add(item_id, shape)
    check.raise_errors()
    rows.flush()
    if check.labels_added:
        project = project_labels_update(
            project=project,
            actor=actor,
            labels=list(project.labels) + check.labels_added,
        )
    statuses = {
        item.pk: check.images[iid]["status"] for iid, item in check.items.items()
    }
    splits = {
        item.pk: check.images[iid]["split"]
        for iid, item in check.items.items()
        if check.images[iid]["split"]
    }
    # Ground truth keeps its split and status (a frozen test set never moves):
    # the file's split and review state apply only to items not yet in a split.
    frozen = item_splits_frozen(project=project, item_ids=item_ids)
    moved = sum(
        1
        for pk, name in frozen.items()
        if statuses.get(pk) == "review" or splits.get(pk) not in (None, name)
    )
    review = [
        pk for pk, status in statuses.items() if status == "review" and pk not in frozen
    ]
    kept = 0
    if as_ == "ground_truth":
        kept = _ground_truth_write(
            project, actor, item_ids, review, splits, frozen, split
        )
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="coco_imported",
        mode=as_,
        items=len(item_ids),
        shapes=rows.written,
    )
    return {
        "items": len(item_ids),
        "annotations": rows.written,
        "as": as_,
        "splits_kept": kept,
        "splits_frozen": moved if as_ == "ground_truth" else 0,
        "review": len(review) if as_ == "ground_truth" else 0,
        "labels_added": check.labels_added,
        "converted": dict(sorted(check.converted.items())),
        # Items made from a Label Studio zip's images (imports_ls_zip).
        "items_created": 0,
    }


def _ground_truth_write(project, actor, item_ids, review, splits, frozen, split):
    """Bump the items' versions (their annotation sets changed), send the review
    ones to review, give the others the file's split (keep) and make them
    ground truth. Returns how many took the file's split."""
    for ids in _chunks(item_ids):
        Item.objects.filter(pk__in=ids).update(version=F("version") + 1)
    for ids in _chunks(review):
        Item.objects.filter(pk__in=ids).update(
            status=ItemStatus.REVIEW, split=None, approved_at=None
        )
    in_review = set(review)
    done = [pk for pk in item_ids if pk not in in_review]
    kept = 0
    if split == "keep":
        for name in Split.values:
            ids = [pk for pk in done if splits.get(pk) == name and pk not in frozen]
            kept += len(ids)
            for chunk in _chunks(ids):
                Item.objects.filter(pk__in=chunk).update(
                    status=ItemStatus.DONE, split=name
                )
    if done:
        items_make_ground_truth(project=project, item_ids=done, actor=actor)
    return kept
