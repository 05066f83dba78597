"""The queue order: which items a label or review claim tries, in order, and
the peek at the next one. Reads only: claims happen in
annotate.services.queue."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from annotate.models import Item, ItemStatus, Project, TaskKind, TaskStatus


def _label_waiting(*, project: Project, user) -> QuerySet[Item]:
    """Unlabeled items of the project that `user` may be offered: all but those
    recently rejected from someone else's work (their annotator gets them first)."""
    grace_start = timezone.now() - timedelta(
        seconds=settings.ALWEB_REJECT_GRACE_SECONDS
    )
    return (
        Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
        .exclude(
            Q(rejected_at__gt=grace_start)
            & ~Q(last_annotator=user)
            & Q(last_annotator__isnull=False)
        )
        .exclude(Q(assigned_to__isnull=False) & ~Q(assigned_to=user))
        # A consensus item waits for a second annotator, not its first one.
        .exclude(Q(consensus_first__assignee=user) & Q(agreement__isnull=True))
    )


def _label_candidates(*, project: Project, user, batch: int, exclude=()):
    """Label candidates in queue order: the user's own rejected items first, then
    by priority, skipping items recently rejected from someone else's work."""
    # Filtered on (last_annotator, rejected_at) only, so that SQLite walks the
    # small last_annotator index instead of every unlabeled item of the project
    # (rejected_at is cleared on submit and approval: few rows match).
    own = (
        Item.objects.filter(last_annotator=user, rejected_at__isnull=False)
        .order_by("rejected_at", "id")
        .values_list("pk", "project_id", "status")[: batch * 4]
    )
    excluded = set(exclude)
    yield from (
        pk
        for pk, project_id, status in own
        if project_id == project.pk
        and status == ItemStatus.UNLABELED
        and pk not in excluded
    )
    # Then the items a manager assigned to the user (few: the FK's index).
    assigned = (
        Item.objects.filter(assigned_to=user, project=project)
        .filter(status=ItemStatus.UNLABELED)
        .order_by("-priority", "id")
        .values_list("pk", flat=True)[: batch * 4]
    )
    yield from (pk for pk in assigned if pk not in excluded)
    others = _label_waiting(project=project, user=user)
    if exclude:
        others = others.exclude(pk__in=list(exclude))
    last_priority, last_id = None, None
    while True:
        qs = others.order_by("-priority", "id")
        if last_id is not None:
            qs = qs.filter(
                Q(priority__lt=last_priority)
                | Q(priority=last_priority, id__gt=last_id)
            )
        rows = list(qs.values_list("pk", "priority")[:batch])
        if not rows:
            return
        yield from (pk for pk, _ in rows)
        last_id, last_priority = rows[-1][0], rows[-1][1]


def _review_waiting(*, project: Project) -> QuerySet[Item]:
    return Item.objects.filter(project=project, status=ItemStatus.REVIEW).exclude(
        tasks__status=TaskStatus.ACTIVE
    )


def queue_candidates(*, project: Project, user, kind: str, exclude=(), batch=25):
    """Item ids of the label or review queue in the order a claim tries them.

    Label: the user's own rejected items first (oldest rejection first), then the
    items assigned to them (Item.assigned_to), then by
    priority (highest first, then id), leaving out items rejected within
    ALWEB_REJECT_GRACE_SECONDS from someone else's work and items assigned to
    someone else. Review: submitted items
    nobody holds, by consensus agreement (lowest first; none counts as 1), then
    priority then id (the first 200). `exclude`: item ids not to
    offer (items the user just skipped). A read: claims happen in
    annotate.services.queue.queue_claim_next, which tries these in order.
    """
    if kind == TaskKind.LABEL:
        return _label_candidates(
            project=project, user=user, batch=batch, exclude=list(exclude)
        )
    if kind == TaskKind.REVIEW:
        return _review_candidates(project=project, batch=batch, exclude=exclude)
    raise ValueError("kind must be label or review")


def _review_candidates(*, project: Project, batch: int, exclude=()):
    """The first 200 items waiting for review: consensus items whose two
    versions disagree first (lowest agreement first), then the others (full
    agreement ranks with single-labelled items) by priority, then id. The
    agreement is an F1 in [0, 1] (ml.consensus.agreement), so this is the
    order of COALESCE(agreement, 1), priority, id, read in two queries: the
    second walks item_queue_idx in its order and stops at the limit instead of
    sorting every waiting item (6 ms at 5,000 in review on SQLite), `batch`
    rows at first, the rest of the 200 only if a claim gets that far."""
    waiting = _review_waiting(project=project).exclude(pk__in=list(exclude))
    disagreeing = list(
        waiting.filter(agreement__lt=1.0)
        .order_by("agreement", "-priority", "id")
        .values_list("pk", flat=True)[:200]
    )
    yield from disagreeing
    others = (
        waiting.exclude(agreement__lt=1.0)
        .order_by("-priority", "id")
        .values_list("pk", flat=True)
    )
    # The first `batch` first: a claim nearly always takes the first of them.
    rest = 200 - len(disagreeing)
    first = min(batch, rest)
    if first > 0:
        yield from list(others[:first])
    if rest > first:
        yield from list(others[first:rest])


def queue_peek(*, project: Project, user, kind: str, exclude=()) -> Item | None:
    """The item the caller's next claim of `kind` would most likely get once the
    task they hold is finished (that item is not waiting, so it is never the
    answer), or None if the queue is empty. Read-only: no lease, no event; someone
    else may claim it first."""
    for item_id in queue_candidates(
        project=project, user=user, kind=kind, exclude=exclude, batch=5
    ):
        item = Item.objects.filter(pk=item_id).defer("embedding").first()
        if item is not None:
            return item
    return None


def queue_item_claimable(*, project: Project, user, kind: str, item_id) -> Item:
    """An item of `project` that waits in the `kind` queue for `user` now (what a
    claim could give them): for the peek's image. Http404 otherwise."""
    try:
        item_id = int(item_id)
        waiting = (
            _label_waiting(project=project, user=user)
            if kind == TaskKind.LABEL
            else _review_waiting(project=project)
        )
        return waiting.defer("embedding").get(pk=item_id)
    except (Item.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such item in your queue") from None
