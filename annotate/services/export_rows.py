"""The rows every export reads: ground-truth items in keyset chunks, fetched
whole, then their annotations (see annotate.services.exports)."""

from collections import Counter
from collections.abc import Callable, Iterator

from django.db.models import Q

from annotate import coco
from annotate.models import (
    GROUND_TRUTH_ROWS,
    Annotation,
    Item,
    ItemStatus,
    Project,
    Task,
    TaskKind,
    TaskStatus,
)
from annotate.selectors_work import task_active_time

ITEM_CHUNK = 1000  # items per read; their annotations are read next, also whole
Progress = Callable[[float], None]


ITEM_FIELDS = (
    "id",
    "original_name",
    "width",
    "height",
    "split",
    "image_format",
    "file",
    "source_path",
    "status",
)


def ground_truth_item_chunks(
    project: Project, statuses=(ItemStatus.DONE,)
) -> Iterator[list[tuple]]:
    """Exported items in id order as lists of ITEM_CHUNK rows (ITEM_FIELDS); each
    list is fetched whole (keyset on id)."""
    rows = Item.objects.filter(project=project, status__in=statuses).order_by("id")
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last).values_list(*ITEM_FIELDS)[:ITEM_CHUNK])
        if not chunk:
            return
        yield chunk
        if len(chunk) < ITEM_CHUNK:
            return
        last = chunk[-1][0]


def annotations_of(item_ids, source: str | None = None) -> list[tuple]:
    """(item_id, kind, label, geometry, area, id, model version, confidence,
    model name) of these items' annotations, in (item, id) order: their ground
    truth (GROUND_TRUTH_ROWS: human shapes and accepted model ones, as training
    reads it), or all those of `source`."""
    rows = Annotation.objects.filter(item_id__in=list(item_ids))
    rows = rows.filter(GROUND_TRUTH_ROWS if source is None else Q(source=source))
    return list(
        rows.order_by("item_id", "id").values_list(
            "item_id",
            "kind",
            "label",
            "geometry",
            "area",
            "id",
            "model_version_id",
            "confidence",
            "model_name",
        )
    )


def labelling_of(item_ids) -> dict[int, list[dict]]:
    """The throughput of every submitted label task of these items, by item, in
    submit order: {"annotator", "submitted_at", "active_seconds" (claim to
    submit, at most annotate.selectors_work.TASK_TIME_CAP), "shapes",
    "model_shapes", "model_kept", "agreement"} (counts null on tasks submitted
    before they were stored; agreement only on consensus items). One query."""
    rows = (
        Task.objects.filter(
            item_id__in=list(item_ids),
            kind=TaskKind.LABEL,
            status=TaskStatus.SUBMITTED,
            finished_at__isnull=False,
            is_check=False,
        )
        .annotate(active=task_active_time())
        .order_by("item_id", "finished_at", "id")
        .values_list(
            "item_id",
            "assignee__username",
            "finished_at",
            "active",
            "shape_count",
            "model_shapes",
            "model_kept",
            "agreement",
        )
    )
    result: dict[int, list[dict]] = {}
    for item_id, user, at, active, shapes, model, kept, agreement in rows:
        result.setdefault(item_id, []).append(
            {
                "annotator": user,
                "submitted_at": at.isoformat(),
                "active_seconds": round(active.total_seconds(), 3),
                "shapes": shapes,
                "model_shapes": model,
                "model_kept": kept,
                "agreement": agreement,
            }
        )
    return result


def duplicated_names(project: Project) -> set[str]:
    """Export base names (annotate.coco.item_base_name) that more than one item
    of the project shares: those items are exported as <stem>~<id>.<ext>. Read
    whole before anything is written."""
    rows = Item.objects.filter(project=project).values_list(
        "pk", "source_path", "original_name", "image_format"
    )
    counts = Counter(coco.item_base_name(*row) for row in rows)
    return {name for name, n in counts.items() if n > 1}


def coco_file_name(item_id, source_path, original_name, fmt, duplicated) -> str:
    """The image's COCO file_name: unique in the project, the upload's relative
    path kept (see annotate.coco)."""
    base = coco.item_base_name(item_id, source_path, original_name, fmt)
    return coco.unique_file_name(base, item_id, duplicated)
