"""Possible label errors: the flags the model loop raises on approved items
(plain data in, no model import), and a reviewer's answer to each: confirm
the label (remembered for that model version) or reopen the item for a fix."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotate.models import FlagStatus, Item, ItemStatus, LabelErrorFlag, Project
from annotate.selectors_mining import labelled_similar
from annotate.services.curation import item_reopen
from annotate.services.events import event_log
from annotate.services.projects import project_lock


@dataclass(frozen=True)
class FlagData:
    """One item's candidates (dicts with at least kind and score), best first."""

    item_id: int
    candidates: list[dict]


@transaction.atomic
def label_error_flags_replace(
    *,
    project: Project,
    model_version_id: int,
    model_name: str,
    checked_item_ids: list[int],
    flags: list[FlagData],
) -> dict:
    """Replace the open flags of the checked items with this version's.

    Open flags of `checked_item_ids` (from any version) are dropped: the new
    best model's view replaces the old one's. An item this version already
    flagged and a reviewer answered (confirmed, or reopened) is not flagged
    again by it; an item no longer approved is skipped. Records one
    `label_errors_flagged` event. Returns {"flagged", "skipped", "cleared"}."""
    project_lock(project_id=project.pk)
    checked = set(checked_item_ids)
    cleared, _ = LabelErrorFlag.objects.filter(
        project=project, item_id__in=checked, status=FlagStatus.OPEN
    ).delete()
    answered = set(
        LabelErrorFlag.objects.filter(
            project=project, model_version_id=model_version_id
        ).values_list("item_id", flat=True)
    )
    versions = dict(
        Item.objects.filter(
            project=project,
            status=ItemStatus.DONE,
            pk__in=[f.item_id for f in flags],
        ).values_list("pk", "version")
    )
    rows, skipped = [], 0
    for flag in flags:
        if flag.item_id in answered or flag.item_id not in versions:
            skipped += 1
            continue
        if not flag.candidates:
            continue
        top = max(flag.candidates, key=lambda c: c["score"])
        rows.append(
            LabelErrorFlag(
                project=project,
                item_id=flag.item_id,
                model_version_id=model_version_id,
                model_name=model_name[:100],
                item_version=versions[flag.item_id],
                kind=str(top["kind"])[:16],
                score=float(top["score"]),
                candidates=flag.candidates,
            )
        )
    LabelErrorFlag.objects.bulk_create(rows, batch_size=500)
    by_kind: dict[str, int] = {}
    for row in rows:
        by_kind[row.kind] = by_kind.get(row.kind, 0) + 1
    event_log(
        project_id=project.pk,
        verb="label_errors_flagged",
        model=model_version_id,
        model_name=model_name,
        checked=len(checked),
        flagged=len(rows),
        kinds=dict(sorted(by_kind.items())),
    )
    return {"flagged": len(rows), "skipped": skipped, "cleared": cleared}


def _open_flag(flag: LabelErrorFlag) -> LabelErrorFlag:
    project_lock(project_id=flag.project_id)
    flag = LabelErrorFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != FlagStatus.OPEN:
        raise ValidationError(
            {"flag": f"this flag was already answered ({flag.status})"}
        )
    return flag


@transaction.atomic
def label_error_confirm(*, flag: LabelErrorFlag, actor) -> LabelErrorFlag:
    """The label is right: the flag is closed as confirmed and stays, so the
    same model version never flags this item again. Event
    `label_error_confirmed`. ValidationError when already answered."""
    flag = _open_flag(flag)
    LabelErrorFlag.objects.filter(pk=flag.pk).update(
        status=FlagStatus.CONFIRMED, resolved_by=actor, resolved_at=timezone.now()
    )
    event_log(
        project_id=flag.project_id,
        actor=actor,
        verb="label_error_confirmed",
        item_id=flag.item_id,
        flag=flag.pk,
        model=flag.model_version_id,
        model_name=flag.model_name,
        kind=flag.kind,
        score=flag.score,
    )
    flag.refresh_from_db()
    return flag


@transaction.atomic
def label_error_fix(*, flag: LabelErrorFlag, actor, comment: str = "") -> Item:
    """The label is wrong: the item is reopened for correction (item_reopen:
    the approved shapes kept in history, its split held, evaluations that
    used it marked stale) and the flag closed as fixed. Event
    `label_error_fixed`. ValidationError when already answered or the item
    is no longer done (nothing changes)."""
    flag = _open_flag(flag)
    if comment is not None and not isinstance(comment, str):
        raise ValidationError({"comment": "must be text"})
    top = (flag.candidates or [{}])[0]
    why = (comment or "").strip() or (
        f"possible label error ({flag.kind}, score {flag.score:.2f}, "
        f"model {flag.model_name}): {top.get('reason', '')}"
    )[:5000]
    item = item_reopen(item=flag.item, actor=actor, comment=why)
    LabelErrorFlag.objects.filter(pk=flag.pk).update(
        status=FlagStatus.FIXED, resolved_by=actor, resolved_at=timezone.now()
    )
    event_log(
        project_id=flag.project_id,
        actor=actor,
        verb="label_error_fixed",
        item_id=flag.item_id,
        flag=flag.pk,
        model=flag.model_version_id,
        model_name=flag.model_name,
        kind=flag.kind,
        score=flag.score,
    )
    return item


SIMILAR_K = 20  # ground-truth items searched per "find similar mistakes"


@transaction.atomic
def label_error_similar_flag(*, flag: LabelErrorFlag, actor, k=SIMILAR_K) -> dict:
    """Find similar mistakes from a label error a reviewer confirmed by
    fixing it (a `fixed` flag): the `k` ground-truth items nearest to its item
    by stored embedding (selectors_mining.labelled_similar) are flagged for
    re-review, kind `similar`, with the reason ("similar to item N's confirmed
    label error") and a score of the seed's times the similarity. Items with
    an open flag, or one of the same model version already answered, are left
    as they are. Event `label_error_similar_flagged`. Returns {"flagged",
    "skipped", "items"}. ValidationError for a flag that is not fixed or a bad
    `k`; Conflict (409) when the item has no embedding."""
    project_lock(project_id=flag.project_id)
    flag = LabelErrorFlag.objects.select_related("project").get(pk=flag.pk)
    if flag.status != FlagStatus.FIXED:
        raise ValidationError(
            {
                "flag": "only a fixed flag (a label error a reviewer confirmed by "
                f"reopening the item) seeds similar mistakes; this one is "
                f"{flag.status}"
            }
        )
    found = labelled_similar(project=flag.project, item_id=flag.item_id, k=k)
    taken = set(
        LabelErrorFlag.objects.filter(project_id=flag.project_id)
        .filter(Q(status=FlagStatus.OPEN) | Q(model_version_id=flag.model_version_id))
        .filter(item_id__in=[s.item.pk for s in found])
        .values_list("item_id", flat=True)
    )
    rows = []
    for s in found:
        if s.item.pk in taken:
            continue
        score = round(flag.score * max(0.0, 1.0 - s.distance), 4)
        reason = (
            f"similar to item {flag.item_id}'s confirmed label error "
            f"({flag.kind}; distance {s.distance:.3f})"
        )
        rows.append(
            LabelErrorFlag(
                project_id=flag.project_id,
                item_id=s.item.pk,
                model_version_id=flag.model_version_id,
                model_name=flag.model_name,
                item_version=s.item.version,
                kind=SIMILAR,
                score=score,
                candidates=[_similar_candidate(flag, s, score, reason)],
            )
        )
    LabelErrorFlag.objects.bulk_create(rows, batch_size=500)
    items = [r.item_id for r in rows]
    event_log(
        project_id=flag.project_id,
        actor=actor,
        verb="label_error_similar_flagged",
        item_id=flag.item_id,
        flag=flag.pk,
        flagged=len(rows),
        items=items,
    )
    return {"flagged": len(rows), "skipped": len(found) - len(rows), "items": items}


SIMILAR = "similar"


def _similar_candidate(flag, found, score: float, reason: str) -> dict:
    return {
        "kind": SIMILAR,
        "score": score,
        "reason": reason,
        "label": None,
        "predicted": None,
        "iou": 0.0,
        "confidence": 0.0,
        "gt_index": None,
        "pred_index": None,
        "gt_bbox": None,
        "pred_bbox": None,
        "similar_to": flag.item_id,
        "seed_flag": flag.pk,
        "distance": round(float(found.distance), 4),
    }
