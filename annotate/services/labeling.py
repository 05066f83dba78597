"""Autosave, submit, approve and reject: the label and review steps of the loop."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alweb.exceptions import Conflict
from annotate import selectors, signals
from annotate.models import (
    Annotation,
    Item,
    ItemStatus,
    Pipeline,
    Split,
    Task,
    TaskKind,
    TaskStatus,
)
from annotate.services.annotations import (
    annotations_replace,
    model_shapes_kept,
    shapes_validate,
)
from annotate.services.checks import check_score
from annotate.services.consensus import (
    consensus_agreement,
    consensus_round_reset,
    consensus_state,
    consensus_wants_second,
)
from annotate.services.events import event_log
from annotate.services.queue import lease_end, task_require_active
from ml.splits import BACKGROUND, assign_splits


def _lock_task(task: Task, kind: str, *, refresh: bool = True) -> Task:
    if task.kind != kind:
        raise Conflict(f"this is a {task.kind} task, not a {kind} task")
    task_require_active(task, refresh=refresh)
    return task


def _finish(task: Task, status: str, **values) -> None:
    """End the active task with `status` (a conditional UPDATE: the row's status
    decides); Conflict("lease lost") when it was no longer active."""
    if not Task.objects.filter(pk=task.pk, status=TaskStatus.ACTIVE).update(
        status=status, finished_at=timezone.now(), **values
    ):
        raise Conflict("lease lost")


def _stale_or_lost(task: Task, what: str) -> Conflict:
    """The Conflict for a conditional UPDATE of an active task that matched no
    row: the lease was lost meanwhile, or the draft version moved on."""
    task.refresh_from_db()
    if task.status != TaskStatus.ACTIVE:
        return Conflict(
            f"lease lost: this task is {task.status}", task_status=task.status
        )
    return Conflict(
        f"the draft was saved elsewhere in the meantime (another tab or window): "
        f"it is at version {task.draft_version}; {what}",
        version=task.draft_version,
        draft_version=task.draft_version,
    )


def task_draft_save(
    *, task: Task, shapes, client_version: int | None = None, fresh: bool = False
) -> Task:
    """Autosave work in progress on an active task and renew its lease.

    One conditional UPDATE (WHERE status = active [AND draft_version = n]) bumps
    draft_version: of two saves from the same version one wins, the other gets
    Conflict (with the current `version`), on SQLite and PostgreSQL alike. Raises
    ValidationError for bad shapes (the saved draft is unchanged), Conflict when
    the lease was lost or `client_version` is not the saved draft's version.
    The lease check and the validation come before the write transaction (the
    note above _draft_write); the UPDATE's condition decides. `fresh`: the
    caller has just read `task` (the API's request did), so its status is not
    read again.
    """
    _lock_task(task, task.kind, refresh=not fresh)
    cleaned = shapes_validate(item=task.item, shapes=shapes)
    return _draft_write(task, cleaned, client_version)


# Reads and the validation of shapes come before a save's write transaction
# opens: on SQLite the one write lock is held from its BEGIN IMMEDIATE, and
# every claim, autosave, submit and approval of every annotator waits for it
# (bench/drill_annotators.py --trace: the tail of each is that wait). The
# conditional UPDATEs inside decide between racing requests, as before.


@transaction.atomic
def _draft_write(task: Task, cleaned, client_version: int | None) -> Task:
    filters = {"pk": task.pk, "status": TaskStatus.ACTIVE}
    if client_version is not None:
        filters["draft_version"] = client_version
    values = {
        "draft": cleaned,
        "draft_saved_at": timezone.now(),
        "lease_expires_at": lease_end(),
    }
    updated = Task.objects.filter(**filters).update(
        **values, draft_version=F("draft_version") + 1
    )
    if not updated:
        raise _stale_or_lost(task, "this save was not applied")
    if client_version is None:
        task.refresh_from_db()
    else:  # the row is what this UPDATE wrote: no read back
        for field, value in values.items():
            setattr(task, field, value)
        task.draft_version = client_version + 1
    return task


def _replayed(task: Task, client_id: str | None, *, refresh: bool = True) -> bool:
    """Whether `task` was already submitted with `client_id` (a retry); its
    status read again first unless the caller just did."""
    if not client_id:
        return False
    if refresh:
        task.refresh_from_db(fields=["status", "submit_client_id"])
    return task.status == TaskStatus.SUBMITTED and task.submit_client_id == client_id


def task_submit(
    *,
    task: Task,
    shapes,
    client_id: str | None = None,
    client_version: int | None = None,
    fresh: bool = False,
) -> Item:
    """Submit a label task: the shapes become the item's annotations, the item goes
    to review. Raises ValidationError (nothing changes) or Conflict (lease lost,
    or `client_version` given and not the saved draft's version).

    Idempotent by `client_id`: a submit of a task already submitted with the same
    client id changes nothing and returns the item (a retry whose first answer
    was lost gets the same success); another client id gets Conflict as before.
    Checks and validation come before the write transaction (the note above
    _draft_write). `fresh`: as task_draft_save's.
    """
    item = task.item
    if not fresh:  # one read of the row for both checks: a retry's, the lease's
        task.refresh_from_db(fields=["status", "submit_client_id", "lease_expires_at"])
    if _replayed(task, client_id, refresh=False):
        item.refresh_from_db()
        return item
    _lock_task(task, TaskKind.LABEL, refresh=False)
    cleaned = shapes_validate(item=item, shapes=shapes)
    filters = {"pk": task.pk, "status": TaskStatus.ACTIVE}
    if client_version is not None:
        filters["draft_version"] = client_version
    if task.is_check:
        with transaction.atomic():
            _check_submit(task, item, cleaned, client_id, filters)
    else:
        # Stored for the Work page: shapes submitted, model pre-annotations kept.
        counts = model_shapes_kept(item=item, shapes=cleaned)
        # Settings, read before the write transaction like the checks above.
        pipeline = selectors.pipeline_get(project=task.project)
        _submit_write(task, item, cleaned, client_id, filters, counts, pipeline)
    # The item as stored, read after the commit: on SQLite every other write
    # waits while a write transaction is open (bench/drill_annotators.py --trace).
    item.refresh_from_db()
    return item


@transaction.atomic
def _submit_write(
    task: Task, item: Item, cleaned, client_id, filters, counts, pipeline
) -> None:
    if not _mark_submitted(task, filters, cleaned, client_id, **counts):
        return
    state = consensus_state(item_id=item.pk)
    if consensus_wants_second(task=task, state=state, pipeline=pipeline):
        # The first of two versions: kept on the task, the item waits for a
        # second annotator (annotate.services.consensus).
        _logged(task, item, "label_submitted", cleaned, consensus="first")
        return
    agreed = consensus_agreement(task=task, shapes=cleaned, state=state)
    extra = {} if agreed is None else {"agreement": agreed}
    annotations_replace(
        item=item,
        shapes=cleaned,
        author=task.assignee,
        item_updates={
            "status": ItemStatus.REVIEW,
            "last_annotator": task.assignee,
            "rejected_at": None,
            **extra,
        },
    )
    _logged(task, item, "label_submitted", cleaned, **extra)


def _mark_submitted(task: Task, filters: dict, cleaned, client_id, **values) -> bool:
    """The submit's conditional UPDATE of the task (`filters`: active [and at the
    client's draft version]) to submitted, with the shapes, the client id and
    `values`. True when it applied; False when a concurrent retry with the
    same client id had won it (nothing more to do); else the Conflict."""
    if Task.objects.filter(**filters).update(
        status=TaskStatus.SUBMITTED,
        finished_at=timezone.now(),
        draft=cleaned,
        submit_client_id=client_id or "",
        **values,
    ):
        return True
    if _replayed(task, client_id):
        return False
    raise _stale_or_lost(task, "nothing was submitted")


def _logged(task: Task, item: Item, verb: str, cleaned, **fields) -> None:
    """Log the submit (`verb`, how many shapes, `fields`)."""
    event_log(
        project_id=task.project_id,
        actor=task.assignee,
        verb=verb,
        item_id=item.pk,
        task=task.pk,
        shapes=len(cleaned),
        **fields,
    )


def _check_submit(task: Task, item: Item, cleaned, client_id, filters) -> None:
    """A hidden check's submit: the task stores the shapes and their score
    against the ground truth (annotate.services.checks); the item, its
    annotations and its status stay as they are."""
    score = check_score(item=item, shapes=cleaned)
    if _mark_submitted(
        task,
        filters,
        cleaned,
        client_id,
        shape_count=len(cleaned),
        model_shapes=0,
        model_kept=0,
        check_score=score,
    ):
        _logged(task, item, "check_submitted", cleaned, score=score)


@transaction.atomic
def review_reject(*, task: Task, comment: str, fresh: bool = False) -> Item:
    """Send the item back to labelling with a required comment; annotations kept.
    A consensus item's finished round is closed (consensus_round_reset): the
    next two submits are compared afresh. `fresh`: as task_draft_save's."""
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise ValidationError({"comment": "a comment is required to reject"})
    if len(comment) > 5000:
        raise ValidationError({"comment": "at most 5000 characters"})
    _lock_task(task, TaskKind.REVIEW, refresh=not fresh)
    _finish(task, TaskStatus.REJECTED, comment=comment)
    Item.objects.filter(pk=task.item_id).update(
        status=ItemStatus.UNLABELED, review_comment=comment, rejected_at=timezone.now()
    )
    consensus_round_reset(item_ids=[task.item_id])
    event_log(
        project_id=task.project_id,
        actor=task.assignee,
        verb="review_rejected",
        item_id=task.item_id,
        task=task.pk,
        comment=comment,
    )
    return Item.objects.get(pk=task.item_id)


def review_approve(*, task: Task, shapes=None, fresh: bool = False) -> Item:
    """Approve: optional corrected shapes replace the annotations, the item becomes
    ground truth and gets its split (never changed afterwards). Sends item_approved
    after commit. Raises ValidationError or Conflict; nothing changes then.

    The lease check, the validation, the split settings and the split counts
    the stratified split needs (the ground truth of the labels the approved
    shapes carry: assign_splits reads no others) come before the write
    transaction opens (the item as stored is read after it): the grouped query
    over the ground truth took half of an approval's time, and on SQLite every
    claim and save waited for the write lock meanwhile (bench/drill_annotators.py
    --trace). A concurrent approval may make them a moment old, as they always
    are on PostgreSQL. `fresh`: as task_draft_save's."""
    _lock_task(task, TaskKind.REVIEW, refresh=not fresh)
    item = task.item
    cleaned = shapes_validate(item=item, shapes=shapes) if shapes is not None else None
    if item.held_split:
        # A reopened item gets its split back: nothing to count or draw. (Had
        # it lost the held split by the write, items_make_ground_truth would
        # read what the draw needs itself.)
        labels = counts = pipeline = None
    else:
        if cleaned is not None:
            labels = {shape["label"] for shape in cleaned}
        else:
            labels = selectors.item_labels(item=item)
        labels = labels or {BACKGROUND}
        counts = selectors.split_label_counts(project=task.project, labels=labels)
        pipeline = selectors.pipeline_get(project=task.project)
    item = _approve(task, cleaned, counts, labels, pipeline)
    item.refresh_from_db()  # after the commit, as a submit's
    return item


@transaction.atomic
def _approve(task: Task, cleaned, split_counts, split_labels, pipeline) -> Item:
    item = task.item
    _finish(task, TaskStatus.APPROVED)
    if cleaned is not None:
        annotations_replace(item=item, shapes=cleaned, author=task.assignee)
    items_make_ground_truth(
        project=item.project,
        item_ids=[item.pk],
        actor=task.assignee,
        split_counts=split_counts,
        split_labels=split_labels,
        pipeline=pipeline,
    )
    event_log(
        project_id=task.project_id,
        actor=task.assignee,
        verb="review_approved",
        item_id=item.pk,
        task=task.pk,
        corrected=cleaned is not None,
    )
    return item


@transaction.atomic
def items_make_ground_truth(
    *,
    project,
    item_ids: list[int],
    actor=None,
    split_counts=None,
    split_labels=None,
    pipeline=None,
) -> dict[int, str]:
    """Mark items done and give those without a split one (seeded, stratified by the
    labels they carry, against the counts already in each split: `split_counts`
    as selectors.split_label_counts gives them, for the labels `split_labels`
    (None: every label); read here, for the labels of the items that get a
    split, if not given or if the items carry a label they leave out).
    Returns the new splits. Existing splits never change. Sends item_approved
    after commit. `pipeline`: the project's Pipeline if the caller read it
    (before its write transaction)."""
    now = timezone.now()
    Item.objects.filter(project=project, pk__in=item_ids).update(
        status=ItemStatus.DONE,
        approved_at=now,
        review_comment="",
        rejected_at=None,
        assigned_to=None,
        pin="",
    )
    # A reopened item gets back the split it had (a split never changes).
    Item.objects.filter(
        project=project, pk__in=item_ids, held_split__isnull=False
    ).update(split=F("held_split"), held_split=None)
    new_ids = list(
        Item.objects.filter(
            project=project, pk__in=item_ids, split__isnull=True
        ).values_list("pk", flat=True)
    )
    labels_of: dict[int, set[str]] = defaultdict(set)
    for item_id, label in Annotation.objects.filter(item_id__in=new_ids).values_list(
        "item_id", "label"
    ):
        labels_of[item_id].add(label)
    if not new_ids:  # every item had (or got back) its split
        _on_approved(project, item_ids)
        return {}
    needed = set()
    for item_id in new_ids:
        needed |= labels_of.get(item_id) or {BACKGROUND}
    existing = split_counts
    if existing is None or (split_labels is not None and not needed <= split_labels):
        existing = selectors.split_label_counts(project=project, labels=needed)
    if pipeline is None:
        pipeline = Pipeline.objects.get(project=project)
    ratios = {
        "train": pipeline.split_train,
        "val": pipeline.split_val,
        "test": pipeline.split_test,
    }
    assigned = assign_splits(
        [(i, frozenset(labels_of.get(i, ()))) for i in new_ids],
        ratios,
        pipeline.split_seed,
        existing,
    )
    for split in Split.values:
        ids = [i for i, s in assigned.items() if s == split]
        if ids:
            Item.objects.filter(pk__in=ids, split__isnull=True).update(split=split)
    _on_approved(project, item_ids)
    return assigned


def _on_approved(project, item_ids) -> None:
    item_ids = list(item_ids)
    transaction.on_commit(
        lambda: signals.item_approved.send(
            sender=Item, project_id=project.pk, item_ids=item_ids
        )
    )
