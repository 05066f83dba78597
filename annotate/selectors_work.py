"""The Work page's figures (progress, queue, throughput per annotator and
reviewer, time to ground truth), in grouped queries whose number does not grow
with the project; the item browser's tag and work filters; items' tags."""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Least
from django.utils import timezone

from annotate.models import (
    Item,
    ItemStatus,
    ItemTag,
    Membership,
    Project,
    Split,
    Task,
    TaskKind,
    TaskStatus,
)

WINDOWS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
WINDOW_NAMES = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}
WINDOW_NAMES["all"] = "all time"
# A task counts for at most this long (claim to submit): a tab left open
# overnight is not a night of work.
TASK_TIME_CAP = timedelta(minutes=30)
VERDICTS = (TaskStatus.APPROVED, TaskStatus.REJECTED)


@dataclass
class WorkerRow:
    """One annotator's or reviewer's figures over the window."""

    user_id: int
    username: str = ""
    items: int = 0  # label: submits; review: reviews finished
    shapes: int = 0  # label tasks only (those that stored it)
    active: timedelta = timedelta(0)
    reviewed: int = 0  # label: reviews of their submits; review: = items
    rejected: int = 0
    model_shapes: int = 0
    model_kept: int = 0
    # Label: consensus items they labelled whose two versions were compared,
    # and the mean agreement of their version with the other one.
    consensus: int = 0
    agreement: float | None = None
    # Label: hidden ground-truth checks submitted and their mean score.
    checks: int = 0
    check_score: float | None = None

    @property
    def hours(self) -> float:
        return self.active.total_seconds() / 3600

    @property
    def items_per_hour(self) -> float | None:
        return self.items / self.hours if self.hours else None

    @property
    def shapes_per_hour(self) -> float | None:
        return self.shapes / self.hours if self.hours else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.reviewed if self.reviewed else None

    @property
    def model_changed(self) -> int:
        return self.model_shapes - self.model_kept

    @property
    def model_kept_rate(self) -> float | None:
        return self.model_kept / self.model_shapes if self.model_shapes else None


@dataclass
class WorkSummary:
    window: str
    since: object  # datetime or None
    statuses: dict[str, int]
    splits: dict[str, int]
    ground_truth: int
    goal: int | None
    queue: dict[str, int]
    annotators: list[WorkerRow] = field(default_factory=list)
    reviewers: list[WorkerRow] = field(default_factory=list)
    to_ground_truth: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def goal_percent(self) -> float | None:
        if not self.goal:
            return None
        return min(100.0, 100.0 * self.ground_truth / self.goal)


def work_window(value) -> str:
    """The window's key; ValueError for anything but 24h, 7d, 30d, all."""
    value = value or "7d"
    if value not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
    return value


def _since(window: str, now=None):
    span = WINDOWS[work_window(window)]
    return None if span is None else (now or timezone.now()) - span


def _duration(end: str, start: str):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def task_active_time():
    """A finished task's time, claim to submit, at most TASK_TIME_CAP (the
    active time the Work page and the exports count)."""
    return Least(
        _duration("finished_at", "created_at"),
        Value(TASK_TIME_CAP, output_field=DurationField()),
    )


def _finished(project: Project, kind: str, statuses, since) -> QuerySet[Task]:
    # Hidden checks are scored on their own (_checks), never counted as work.
    qs = Task.objects.filter(
        project=project,
        kind=kind,
        status__in=statuses,
        finished_at__isnull=False,
        is_check=False,
    )
    return qs.filter(finished_at__gte=since) if since is not None else qs


def _reviewed_annotator(column: str = "assignee_id"):
    """The annotator a review task judged (`column` of them): who submitted the
    item last before the review was claimed (label and review alternate)."""
    return Subquery(
        Task.objects.filter(
            item_id=OuterRef("item_id"),
            kind=TaskKind.LABEL,
            status=TaskStatus.SUBMITTED,
            is_check=False,
            finished_at__lte=OuterRef("created_at"),
        )
        .order_by("-finished_at", "-id")
        .values(column)[:1]
    )


def work_summary(*, project: Project, window: str = "7d", now=None) -> WorkSummary:
    """Every figure of the Work page over `window` (ValueError when unknown).
    Nine queries, whatever the number of items and tasks."""
    window = work_window(window)
    since = _since(window, now)
    statuses = {s.value: 0 for s in ItemStatus}
    splits = {s.value: 0 for s in Split}
    rows = (
        Item.objects.filter(project=project)
        .order_by()
        .values_list("status", "split")
        .annotate(n=Count("id"))
    )
    for status, split, n in rows:
        statuses[status] = statuses.get(status, 0) + n
        if split:
            splits[split] = splits.get(split, 0) + n
    active = dict(
        Task.objects.filter(project=project, status=TaskStatus.ACTIVE)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    summary = WorkSummary(
        window=window,
        since=since,
        statuses=statuses,
        splits=splits,
        ground_truth=statuses[ItemStatus.DONE],
        goal=project.goal,
        queue={
            "label": statuses[ItemStatus.UNLABELED],
            "labelling": active.get(TaskKind.LABEL, 0),
            "review": statuses[ItemStatus.REVIEW] - active.get(TaskKind.REVIEW, 0),
            "reviewing": active.get(TaskKind.REVIEW, 0),
        },
    )
    summary.annotators = _annotators(project, since)
    summary.reviewers = _reviewers(project, since)
    summary.to_ground_truth = _to_ground_truth(project, since)
    return summary


def _annotators(project: Project, since) -> list[WorkerRow]:
    rows: dict[int, WorkerRow] = {}
    submits = (
        _finished(project, TaskKind.LABEL, (TaskStatus.SUBMITTED,), since)
        .order_by()
        .values("assignee_id", "assignee__username")
        .annotate(
            items=Count("id"),
            shapes=Sum("shape_count"),
            active=Sum(task_active_time()),
            model_shapes=Sum("model_shapes"),
            model_kept=Sum("model_kept"),
            consensus=Count("agreement"),
            agreement=Avg("agreement"),
        )
    )
    for r in submits:
        rows[r["assignee_id"]] = WorkerRow(
            user_id=r["assignee_id"],
            username=r["assignee__username"],
            items=r["items"],
            shapes=r["shapes"] or 0,
            active=r["active"] or timedelta(0),
            model_shapes=r["model_shapes"] or 0,
            model_kept=r["model_kept"] or 0,
            consensus=r["consensus"],
            agreement=r["agreement"],
        )
    verdicts = (
        _finished(project, TaskKind.REVIEW, VERDICTS, since)
        .order_by()
        .annotate(
            annotator=_reviewed_annotator(),
            annotator_name=_reviewed_annotator("assignee__username"),
        )
        .values("annotator", "annotator_name")
        .annotate(
            n=Count("id"), rejected=Count("id", filter=Q(status=TaskStatus.REJECTED))
        )
    )
    for r in verdicts:
        if r["annotator"] is None:
            continue  # reviewed work nobody submitted (an import sent to review)
        row = rows.setdefault(
            r["annotator"],
            WorkerRow(user_id=r["annotator"], username=r["annotator_name"]),
        )
        row.reviewed, row.rejected = r["n"], r["rejected"]
    checks = (
        Task.objects.filter(
            project=project,
            kind=TaskKind.LABEL,
            status=TaskStatus.SUBMITTED,
            is_check=True,
            **({} if since is None else {"finished_at__gte": since}),
        )
        .order_by()
        .values("assignee_id", "assignee__username")
        .annotate(n=Count("id"), score=Avg("check_score"))
    )
    for r in checks:
        row = rows.setdefault(
            r["assignee_id"],
            WorkerRow(user_id=r["assignee_id"], username=r["assignee__username"]),
        )
        row.checks, row.check_score = r["n"], r["score"]
    return sorted(rows.values(), key=lambda r: (-r.items, r.user_id))


def _reviewers(project: Project, since) -> list[WorkerRow]:
    reviews = (
        _finished(project, TaskKind.REVIEW, VERDICTS, since)
        .order_by()
        .values("assignee_id", "assignee__username")
        .annotate(
            n=Count("id"),
            active=Sum(task_active_time()),
            rejected=Count("id", filter=Q(status=TaskStatus.REJECTED)),
        )
    )
    rows = [
        WorkerRow(
            user_id=r["assignee_id"],
            username=r["assignee__username"],
            items=r["n"],
            reviewed=r["n"],
            rejected=r["rejected"],
            active=r["active"] or timedelta(0),
        )
        for r in reviews
    ]
    return sorted(rows, key=lambda r: (-r.items, r.user_id))


def _to_ground_truth(project: Project, since) -> dict:
    """Upload to approval of the items approved in the window: count, median
    and 90th percentile (nearest rank: the value at rank ceil(p * n)), in
    three queries (a count, then one row at each rank)."""
    done = Item.objects.filter(
        project=project, status=ItemStatus.DONE, approved_at__isnull=False
    )
    if since is not None:
        done = done.filter(approved_at__gte=since)
    n = done.count()
    result = {"count": n, "median": None, "p90": None}
    ordered = done.annotate(took=_duration("approved_at", "created_at")).order_by(
        "took", "id"
    )
    for key, percent in (("median", 50), ("p90", 90)):
        rank = max(1, math.ceil(percent * n / 100))
        # Run even when n is 0: the page's query count stays the same.
        took = list(ordered.values_list("took", flat=True)[rank - 1 : rank])
        result[key] = took[0] if took else None
    return result


def _member_id(project: Project, value, name: str) -> int:
    try:
        user_id = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a member of this project") from None
    if not Membership.objects.filter(project=project, user_id=user_id).exists():
        raise ValueError(f"{name} must be a member of this project")
    return user_id


def item_filter_work(
    qs: QuerySet[Item],
    *,
    project: Project,
    tag: str = "",
    labelled_by=None,
    reviewed_by=None,
    checked_by=None,
    verdict: str = "",
    window: str = "",
    consensus: str = "",
    now=None,
) -> QuerySet[Item]:
    """The item browser's work filters (ValueError for unknown values), each a
    subquery, never a join. `tag`: items carrying it (a tag no item carries is
    refused); `labelled_by`: items that member submitted for review;
    `reviewed_by`: items that member approved or rejected; `verdict`
    (approved / rejected): items a review ended so (by `reviewed_by` when
    given). `window` (24h, 7d, 30d, all) limits those tasks to the ones
    finished within it; with none of them, it keeps the items approved within it.
    `consensus` "1": items whose two annotators' versions were compared.
    `checked_by`: items that member submitted as hidden checks (in the window).
    """
    if consensus not in ("", "1"):
        raise ValueError("consensus must be 1 or empty")
    if consensus:
        qs = qs.filter(agreement__isnull=False)
    if tag:
        tags = ItemTag.objects.filter(project=project, name=tag)
        if not tags.exists():
            raise ValueError(f"tag “{tag}” is on no item of this project")
        qs = qs.filter(pk__in=tags.values("item_id"))
    since = _since(window, now) if window else None
    if verdict and verdict not in VERDICTS:
        raise ValueError("verdict must be approved or rejected")
    if labelled_by not in (None, ""):
        user_id = _member_id(project, labelled_by, "labelled_by")
        tasks = _finished(project, TaskKind.LABEL, (TaskStatus.SUBMITTED,), since)
        qs = qs.filter(pk__in=tasks.filter(assignee_id=user_id).values("item_id"))
    if checked_by not in (None, ""):
        user_id = _member_id(project, checked_by, "checked_by")
        checks = Task.objects.filter(
            project=project,
            kind=TaskKind.LABEL,
            status=TaskStatus.SUBMITTED,
            is_check=True,
            assignee_id=user_id,
        )
        if since is not None:
            checks = checks.filter(finished_at__gte=since)
        qs = qs.filter(pk__in=checks.values("item_id"))
    if reviewed_by not in (None, "") or verdict:
        verdicts = (verdict,) if verdict else VERDICTS
        tasks = _finished(project, TaskKind.REVIEW, verdicts, since)
        if reviewed_by not in (None, ""):
            user_id = _member_id(project, reviewed_by, "reviewed_by")
            tasks = tasks.filter(assignee_id=user_id)
        qs = qs.filter(pk__in=tasks.values("item_id"))
    elif since is not None and labelled_by in (None, "") and checked_by in (None, ""):
        qs = qs.filter(approved_at__gte=since)
    return qs


def item_tag_names(*, item: Item) -> list[str]:
    return list(ItemTag.objects.filter(item=item).values_list("name", flat=True))


def project_tag_names(*, project: Project, limit: int = 200) -> list[str]:
    """The tags in use in the project, by name (the browser's tag choices)."""
    return list(
        ItemTag.objects.filter(project=project)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:limit]
    )
