"""Hidden ground-truth checks: with the project's check_share, a label claim
serves an approved item again; the submit is scored against its ground truth
(ml.consensus.agreement) and never changes the item."""

from django.db import IntegrityError, transaction

from annotate import selectors_queue
from annotate.models import (
    Annotation,
    Item,
    ItemStatus,
    Pipeline,
    Project,
    Task,
    TaskKind,
)
from annotate.services.events import event_log
from ml.consensus import agreement, check_due

CHECK_CANDIDATES = 20  # ground-truth items tried per claim (each one UPDATE)


def check_claim(*, project: Project, user, lease_expires_at) -> Task | None:
    """A hidden check task for `user`'s next label claim, or None (then the claim
    takes the label queue). A check is due when ml.consensus.check_due says so
    for the user's number of label claims in the project (seeded with the split
    seed, so the same history gives the same answer), there is other work
    waiting (checks are mixed into a queue, never a queue of their own) and an
    approved item exists that the user never held a task on. The item stays
    done and untouched; the task's insert under the one-active-task-per-item
    constraint decides between two claims."""
    pipeline = Pipeline.objects.filter(project=project).first()
    if pipeline is None or not pipeline.check_share:
        return None
    claims = Task.objects.filter(
        project=project, assignee=user, kind=TaskKind.LABEL
    ).count()
    if not check_due(user.pk, claims, pipeline.split_seed, pipeline.check_share):
        return None
    waiting = selectors_queue.queue_candidates(
        project=project, user=user, kind=TaskKind.LABEL, batch=1
    )
    if next(iter(waiting), None) is None:
        return None
    done = (
        Item.objects.filter(project=project, status=ItemStatus.DONE)
        .exclude(pk__in=Task.objects.filter(assignee=user).values("item_id"))
        .order_by("id")
        .values_list("pk", "version")[:CHECK_CANDIDATES]
    )
    for item_id, version in done:
        try:
            with transaction.atomic():
                task = Task.objects.create(
                    item_id=item_id,
                    project=project,
                    kind=TaskKind.LABEL,
                    assignee=user,
                    lease_expires_at=lease_expires_at,
                    base_version=version,
                    is_check=True,
                )
                event_log(
                    project_id=project.pk,
                    actor=user,
                    verb="check_claimed",
                    item_id=item_id,
                    task=task.pk,
                )
                return task
        except IntegrityError:  # someone holds a task on it (a check, a reopen)
            continue
    return None


def check_score(*, item: Item, shapes: list[dict]) -> float:
    """The agreement F1 of validated `shapes` with the item's ground truth (its
    annotations as stored)."""
    truth = [
        {"kind": a.kind, "label": a.label, **a.geometry}
        for a in Annotation.objects.filter(item=item).order_by("id")
    ]
    return agreement(truth, shapes)
