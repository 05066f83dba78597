"""Similar-item mining's write: send the items found similar to others to the
front of the labelling queue, with the reason and an event per item."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.models import Event, Item, ItemPin, ItemStatus, Project
from annotate.selectors_mining import id_list, item_distances, parse_item_ids
from annotate.services.curation import PIN_PRIORITY
from annotate.services.projects import project_lock


@transaction.atomic
def items_similar_prioritise(
    *, project: Project, actor, similar_to, item_ids, mode: str = "centroid"
) -> int:
    """Pin the unlabelled `item_ids` to the front of the queue as similar to the
    items `similar_to` (one item or a bucket), nearest first: each gets
    PIN_PRIORITY + 1 - distance / 2 (above any strategy's priority and plain
    pins; the loop leaves pinned items alone), priority_reason
    {"pin": "pinned", "similar_to": [...], "distance", "mode", "by", "at"} and
    an `item_similar_prioritised` event.

    All or nothing: raises ValidationError (nothing changes) for ids that are
    not items of this project or items not unlabelled, Conflict when an item
    involved has no embedding. Other projects' items are never touched.
    Returns the count changed.
    """
    ids = parse_item_ids(item_ids)
    sources = parse_item_ids(similar_to, field="similar_to")
    project_lock(project_id=project.pk)
    statuses = dict(
        Item.objects.filter(project=project, pk__in=ids).values_list("pk", "status")
    )
    unknown = [i for i in ids if i not in statuses]
    if unknown:
        raise ValidationError(
            {"items": f"not items of this project: {id_list(unknown)}"}
        )
    wrong = [i for i in ids if statuses[i] != ItemStatus.UNLABELED]
    if wrong:
        raise ValidationError(
            {"items": f"only unlabelled items go to labelling, not {id_list(wrong)}"}
        )
    distances = item_distances(
        project=project, query_ids=sources, item_ids=ids, mode=mode
    )
    now = timezone.now()
    who = actor.username if actor.is_authenticated else ""
    rows = []
    for pk in ids:
        distance = round(distances[pk], 6)
        rows.append(
            Item(
                pk=pk,
                pin=ItemPin.PINNED,
                priority=PIN_PRIORITY + 1.0 - distance / 2,
                priority_reason={
                    "pin": "pinned",
                    "similar_to": sources,
                    "distance": distance,
                    "mode": mode,
                    "by": who,
                    "at": now.isoformat(),
                },
            )
        )
    Item.objects.bulk_update(rows, ["pin", "priority", "priority_reason"])
    Event.objects.bulk_create(
        Event(
            project=project,
            actor=actor if actor.is_authenticated else None,
            verb="item_similar_prioritised",
            item_id=row.pk,
            data={
                "similar_to": sources,
                "distance": row.priority_reason["distance"],
                "bulk": len(ids),
            },
        )
        for row in rows
    )
    return len(rows)
