"""Reads of consensus: the two versions of an item labelled by two annotators."""

from annotate.models import Item, Task, TaskKind, TaskStatus
from annotate.shapes import shape_geometry


def item_consensus_versions(*, item: Item) -> dict | None:
    """The agreement and both versions of a consensus item ({"agreement",
    "versions": [{"annotator", "task", "shapes"}, first then second]}), shapes in
    the API's form as each annotator submitted them; None for an item whose two
    versions were never compared."""
    if item.agreement is None:
        return None
    tasks = list(
        Task.objects.filter(
            item=item,
            kind=TaskKind.LABEL,
            status=TaskStatus.SUBMITTED,
            agreement__isnull=False,
        )
        .select_related("assignee")
        .order_by("-finished_at", "-id")[:2]
    )
    versions = [
        {
            "annotator": t.assignee.username if t.assignee_id else None,
            "task": t.pk,
            "shapes": [
                {"kind": s["kind"], "label": s["label"], **shape_geometry(s)}
                for s in t.draft or []
            ],
        }
        for t in reversed(tasks)
    ]
    return {"agreement": item.agreement, "versions": versions}
