"""The rows every export reads: ground-truth items in keyset chunks, fetched
whole, then their annotations (see annotate.services.exports)."""

from collections import Counter
from collections.abc import Callable, Iterator

from annotate import coco
from annotate.models import Annotation, AnnotationSource, Item, ItemStatus, Project

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


def annotations_of(item_ids, source=AnnotationSource.HUMAN) -> list[tuple]:
    """(item_id, kind, label, geometry, area, id, model version, confidence,
    model name) of these items' annotations of `source`, in (item, id) order."""
    return list(
        Annotation.objects.filter(item_id__in=list(item_ids), source=source)
        .order_by("item_id", "id")
        .values_list(
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
