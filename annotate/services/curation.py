"""A manager's hand on items: bulk actions from the item browser (send to
labelling or review, skip, pin, demote, assign) and reopening a finished item
for correction."""

from django.core.exceptions import ValidationError
from django.db import transaction

from alweb.roles import Perm
from annotate import signals
from annotate.models import (
    Annotation,
    Event,
    Item,
    ItemPin,
    ItemStatus,
    Project,
    Task,
    TaskStatus,
)
from annotate.services.consensus import consensus_round_reset
from annotate.services.events import event_log
from annotate.services.projects import project_lock

# Pinned items go before anything a strategy scores (priorities lie in [0, 1]
# or near it), demoted ones after everything.
PIN_PRIORITY = 1_000_000.0
DEMOTE_PRIORITY = -1_000_000.0
MAX_BULK_ITEMS = 500

# action -> (statuses it applies to, what it writes)
_NOT_DONE = (ItemStatus.UNLABELED, ItemStatus.REVIEW, ItemStatus.SKIPPED)
BULK_ACTIONS = {
    "label": (
        (ItemStatus.REVIEW, ItemStatus.SKIPPED),
        {"status": ItemStatus.UNLABELED},
    ),
    "review": (
        (ItemStatus.UNLABELED, ItemStatus.SKIPPED),
        {"status": ItemStatus.REVIEW},
    ),
    "skip": ((ItemStatus.UNLABELED,), {"status": ItemStatus.SKIPPED}),
    "pin": (
        _NOT_DONE,
        {
            "pin": ItemPin.PINNED,
            "priority": PIN_PRIORITY,
            "priority_reason": {"pin": "pinned"},
        },
    ),
    "demote": (
        _NOT_DONE,
        {
            "pin": ItemPin.DEMOTED,
            "priority": DEMOTE_PRIORITY,
            "priority_reason": {"pin": "demoted"},
        },
    ),
    "unpin": (
        _NOT_DONE,
        {"pin": ItemPin.NONE, "priority": 0.0, "priority_reason": {}},
    ),
    "assign": ((ItemStatus.UNLABELED, ItemStatus.SKIPPED), {}),
    "unassign": (_NOT_DONE, {"assigned_to": None}),
}


def parse_item_ids(item_ids) -> list[int]:
    try:
        ids = sorted({int(i) for i in item_ids})
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({"items": "item ids must be whole numbers"}) from None
    if not ids:
        raise ValidationError({"items": "select at least one item"})
    if len(ids) > MAX_BULK_ITEMS:
        raise ValidationError({"items": f"at most {MAX_BULK_ITEMS} items at once"})
    return ids


@transaction.atomic
def items_bulk_apply(
    *, project: Project, actor, action: str, item_ids, assignee=None
) -> int:
    """Apply one bulk `action` to items of `project` and log an event per item.

    All or nothing: raises ValidationError (nothing changes) for an unknown
    action, ids that are not items of this project, items in a status the
    action does not apply to, items someone holds a claim on, or (assign) an
    assignee who is not a member allowed to label. Returns the count changed.
    """
    if action not in BULK_ACTIONS:
        raise ValidationError(
            {"action": f"action must be one of {', '.join(BULK_ACTIONS)}"}
        )
    ids = parse_item_ids(item_ids)
    project_lock(project_id=project.pk)
    statuses, values = BULK_ACTIONS[action]
    values = dict(values)
    if action == "assign":
        if assignee is None or not assignee.has_perm(Perm.LABEL, project):
            raise ValidationError(
                {"assignee": "choose a member of this project who may label"}
            )
        values["assigned_to"] = assignee
    rows = dict(
        Item.objects.filter(project=project, pk__in=ids).values_list("pk", "status")
    )
    unknown = [i for i in ids if i not in rows]
    if unknown:
        raise ValidationError(
            {"items": f"not items of this project: {_id_list(unknown)}"}
        )
    wrong = [i for i in ids if rows[i] not in statuses]
    if wrong:
        allowed = ", ".join(str(s) for s in statuses)
        raise ValidationError(
            {"items": f"“{action}” applies to {allowed} items, not {_id_list(wrong)}"}
        )
    held = list(
        Task.objects.filter(item_id__in=ids, status=TaskStatus.ACTIVE).values_list(
            "item_id", flat=True
        )
    )
    if held:
        raise ValidationError(
            {"items": f"someone holds a claim on {_id_list(sorted(held))}"}
        )
    if values.get("status") == ItemStatus.UNLABELED:
        values["review_comment"] = ""
    changed = Item.objects.filter(project=project, pk__in=ids).update(**values)
    if values.get("status") == ItemStatus.UNLABELED:
        consensus_round_reset(item_ids=ids)
    detail = {"assignee": assignee.username} if action == "assign" else {}
    Event.objects.bulk_create(
        Event(
            project=project,
            actor=actor if actor.is_authenticated else None,
            verb=f"item_{action}",
            item_id=i,
            data={"bulk": len(ids), **detail},
        )
        for i in ids
    )
    return changed


def _id_list(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


@transaction.atomic
def item_reopen(*, item: Item, actor, comment: str = "") -> Item:
    """Send a finished (done) item back through labelling and then review.

    The approved shapes stay on the item for the annotator to correct, and are
    copied into the `item_reopened` event (the old version kept as history).
    The item leaves ground truth until it is approved again; its split is held
    (Item.held_split) and given back on approval, never drawn anew. Sends
    item_reopened after commit (models_mgmt marks evaluations that used it
    stale). Raises ValidationError when the item is not done.
    """
    comment = comment.strip() if isinstance(comment, str) else ""
    if len(comment) > 5000:
        raise ValidationError({"comment": "at most 5000 characters"})
    project_lock(project_id=item.project_id)
    item = Item.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.DONE:
        raise ValidationError(
            {"item": f"only a done item can be reopened; this one is {item.status}"}
        )
    shapes = [
        {
            "kind": a.kind,
            "label": a.label,
            "geometry": a.geometry,
            "source": a.source_ref,
        }
        for a in Annotation.objects.filter(item=item)
    ]
    split = item.split
    Item.objects.filter(pk=item.pk).update(
        status=ItemStatus.UNLABELED,
        split=None,
        held_split=split,
        approved_at=None,
        review_comment=comment or "reopened for correction",
        rejected_at=None,
    )
    consensus_round_reset(item_ids=[item.pk])
    event_log(
        project_id=item.project_id,
        actor=actor,
        verb="item_reopened",
        item_id=item.pk,
        version=item.version,
        split=split,
        shapes=shapes,
        comment=comment,
    )
    project_id, item_id = item.project_id, item.pk
    transaction.on_commit(
        lambda: signals.item_reopened.send(
            sender=Item,
            project_id=project_id,
            item_ids=[item_id],
            splits={item_id: split},
        )
    )
    item.refresh_from_db()
    return item
