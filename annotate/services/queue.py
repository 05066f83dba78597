"""Leases on items: claiming, releasing and expiring label/review tasks."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alweb.exceptions import Conflict
from annotate import selectors_queue
from annotate.models import Item, ItemStatus, Project, Task, TaskKind, TaskStatus
from annotate.services.checks import check_claim
from annotate.services.consensus import consensus_blocks
from annotate.services.events import event_log


def _status_after_release(task: Task) -> str:
    return ItemStatus.UNLABELED if task.kind == TaskKind.LABEL else ItemStatus.REVIEW


@transaction.atomic
def task_release(*, task: Task, actor, reason: str = "released") -> bool:
    """Give an active claim back; the item returns to its queue. False if not active.

    The draft stays on the task row for the record but is not applied to the item.
    """
    return _release(task, actor, reason)


@transaction.atomic
def task_release_by_manager(*, task: Task, actor) -> bool:
    """Release someone else's active claim on behalf of `actor` (a holder of
    ASSIGN_TASKS; the caller checks). The same as the assignee's release (the
    item returns to its queue, the draft stays on the task row; the assignee's
    next save gets 409 and keeps the work in the browser); the event also names
    the assignee. False if the task was no longer active."""
    return _release(task, actor, "released", assignee=task.assignee_id)


def _release(task: Task, actor, reason: str, **details) -> bool:
    updated = Task.objects.filter(pk=task.pk, status=TaskStatus.ACTIVE).update(
        status=TaskStatus.RELEASED if reason == "released" else TaskStatus.EXPIRED,
        finished_at=timezone.now(),
    )
    if not updated:
        return False
    if not task.is_check:  # a check's item stays done
        Item.objects.filter(pk=task.item_id).update(status=_status_after_release(task))
    event_log(
        project_id=task.project_id,
        actor=actor,
        verb=f"task_{reason}",
        item_id=task.item_id,
        task=task.pk,
        kind=task.kind,
        **details,
    )
    return True


@transaction.atomic
def tasks_release_for_user(*, project: Project, user) -> int:
    """Release every active claim `user` holds in `project` (e.g. on removal)."""
    count = 0
    for task in Task.objects.filter(
        project=project, assignee=user, status=TaskStatus.ACTIVE
    ):
        count += task_release(task=task, actor=None)
    return count


@transaction.atomic
def leases_expire(*, project: Project | None = None) -> int:
    """Expire claims whose lease ran out; their items go back to the queue."""
    count = 0
    for task in _stale(project):
        count += task_release(task=task, actor=None, reason="expired")
    return count


def _stale(project: Project | None, now=None):
    """Active tasks whose lease ran out by `now` (of `project`, or of every
    project)."""
    now = now or timezone.now()
    stale = Task.objects.filter(status=TaskStatus.ACTIVE, lease_expires_at__lt=now)
    return stale if project is None else stale.filter(project=project)


def lease_end():
    """When a lease taken or renewed now runs out (ALWEB_LEASE_SECONDS)."""
    return timezone.now() + timedelta(seconds=settings.ALWEB_LEASE_SECONDS)


def _held(*, project: Project, user, kind: str):
    """The tasks of `kind` that `user` holds in `project`."""
    return Task.objects.filter(
        project=project, assignee=user, kind=kind, status=TaskStatus.ACTIVE
    )


def _active_task(*, project: Project, user, kind: str) -> Task | None:
    return _held(project=project, user=user, kind=kind).first()


def _held_or_stale(*, project: Project, user, kind: str) -> tuple[Task | None, bool]:
    """A claim's first read, one query for two questions: the task of `kind`
    that `user` holds in `project` (the newest, as _active_task's; None if
    none), and whether any active task of the project has outlived its lease.
    When one has, the caller expires them and asks _active_task again."""
    now = timezone.now()
    # Each side of the OR keeps its own status and project: SQLite then reads
    # each from its own index (task_lease_idx, task_assignee_kind_idx: a
    # MULTI-INDEX OR) instead of walking every task of the project.
    either = _stale(project, now) | _held(project=project, user=user, kind=kind)
    rows = list(either[:2])
    if any(task.lease_expires_at < now for task in rows):
        return None, True
    return (rows[0] if rows else None), False


def queue_claim_next(
    *, project: Project, user, kind: str, exclude_item_ids=()
) -> Task | None:
    """Claim the next item of the label or review queue for `user`; None if empty.

    One atomic step per candidate: a label claim flips the item unlabeled ->
    labeling with a conditional UPDATE and checks the row count; a review claim
    inserts the task under the one-active-task-per-item constraint. Two users can
    never hold the same item. A user who already holds a task of this kind gets
    it back (with a renewed lease). Expired leases are returned to the queue first.
    `exclude_item_ids` (items the user just skipped) are not offered. A label
    claim may be a hidden ground-truth check (annotate.services.checks).
    """
    if kind not in TaskKind.values:
        raise ValueError("kind must be label or review")
    # Reads first: a write transaction (SQLite's one write lock) only for
    # stale leases or a resumed task, one for the claim (bench/drill_annotators).
    current, stale = _held_or_stale(project=project, user=user, kind=kind)
    if stale:
        leases_expire(project=project)
        current = _active_task(project=project, user=user, kind=kind)
    if current is not None:
        lease = lease_end()
        with transaction.atomic():  # unless it was expired or released meanwhile
            renewed = Task.objects.filter(
                pk=current.pk, status=TaskStatus.ACTIVE
            ).update(lease_expires_at=lease)
        if renewed:
            current.lease_expires_at = lease
            return current
    if kind == TaskKind.LABEL:
        check = check_claim(project=project, user=user, lease_expires_at=lease_end())
        if check is not None:
            return check
    candidates = selectors_queue.queue_candidates(
        project=project, user=user, kind=kind, exclude=list(exclude_item_ids)
    )
    for item_id in candidates:
        task = _try_claim(project=project, user=user, kind=kind, item_id=item_id)
        if task is not None:
            return task
    return None


def _try_claim(*, project: Project, user, kind: str, item_id: int) -> Task | None:
    try:
        with transaction.atomic():
            if kind == TaskKind.LABEL:
                flipped = Item.objects.filter(
                    pk=item_id, status=ItemStatus.UNLABELED
                ).update(status=ItemStatus.LABELING)
                if flipped != 1:
                    return None
                item = Item.objects.get(pk=item_id)
                # The item is ours now (labeling): no submit can open or close
                # its consensus round meanwhile, so this read decides (asked
                # only of an item with an open round).
                if (
                    item.consensus_first_id is not None
                    and item.agreement is None
                    and consensus_blocks(item_id=item_id, user=user)
                ):
                    raise _Blocked
            else:
                item = Item.objects.filter(pk=item_id, status=ItemStatus.REVIEW).first()
                if item is None:
                    return None
            task = Task.objects.create(
                item=item,
                project=project,
                kind=kind,
                assignee=user,
                lease_expires_at=lease_end(),
                base_version=item.version,
            )
            event_log(
                project_id=project.pk,
                actor=user,
                verb=f"{kind}_claimed",
                item_id=item_id,
                task=task.pk,
            )
            return task
    except IntegrityError:  # someone else's task on this item committed first
        return None
    except _Blocked:  # rolled back: the user gave this item's first version
        return None


class _Blocked(Exception):
    pass


def task_require_active(task: Task, *, refresh: bool = True) -> None:
    """Raise Conflict unless the task is still an active lease (its status read
    again first, unless the caller just did)."""
    if refresh:
        task.refresh_from_db(fields=["status", "lease_expires_at"])
    if task.status != TaskStatus.ACTIVE:
        raise Conflict(
            f"lease lost: this task is {task.status}", task_status=task.status
        )
