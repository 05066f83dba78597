"""Reads of the annotate app, with the visibility rules (non-members see nothing)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.utils import timezone

from alweb.auth import project_role, project_role_known
from alweb.roles import ROLE_TABLE, Perm
from annotate.models import (
    Annotation,
    Event,
    Item,
    ItemStatus,
    Membership,
    Pipeline,
    Project,
    Split,
    Task,
    TaskStatus,
)


def project_list_for_user(*, user) -> QuerySet[Project]:
    """Projects the user is a member of (superusers: all projects)."""
    qs = Project.objects.all()
    if not user.is_superuser:
        qs = qs.filter(memberships__user=user)
    return qs.order_by("name", "id")


def project_find(*, project_id) -> Project | None:
    """The project with this id, or None (no visibility rule: for workers and
    receivers acting on the project's own events)."""
    return Project.objects.filter(pk=project_id).first()


def _with_viewer_role(qs: QuerySet, user, project_ref: str) -> QuerySet:
    """`qs` with `viewer_role`: the user's membership role in the project that
    `project_ref` names (a correlated subquery: one query for both)."""
    if not getattr(user, "is_authenticated", False):
        return qs
    role = Membership.objects.filter(
        project_id=OuterRef(project_ref), user_id=user.pk
    ).order_by("id")
    return qs.annotate(viewer_role=Subquery(role.values("role")[:1]))


def project_get_for_user(
    *, user, project_id, perm: Perm = Perm.VIEW_PROJECT
) -> Project:
    """The project if `user` may do `perm` on it.

    Raises Http404 for non-members and unknown ids (a project's existence is never
    revealed), PermissionDenied for members whose role lacks `perm`. One query:
    the user's role is read with the project.
    """
    try:
        project = _with_viewer_role(Project.objects.all(), user, "pk").get(
            pk=int(project_id)
        )
    except (Project.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such project") from None
    project_role_known(user, project.pk, getattr(project, "viewer_role", None))
    return project_require(user=user, project=project, perm=perm)


def project_require(*, user, project: Project, perm: Perm) -> Project:
    """`project` (already read) if `user` may do `perm` on it: Http404 for
    non-members, PermissionDenied for members whose role lacks `perm`."""
    if not user.has_perm(Perm.VIEW_PROJECT, project):
        raise Http404("no such project")
    if not user.has_perm(perm, project):
        raise PermissionDenied(
            f"your role in this project does not allow {perm.name.lower()}"
        )
    return project


def membership_role(*, user_id, project_id) -> str | None:
    """The role of user `user_id` in project `project_id`, or None (no member).
    alweb's auth backend asks this (settings.ALWEB_MEMBERSHIP_ROLE)."""
    return (
        Membership.objects.filter(user_id=user_id, project_id=project_id)
        .values_list("role", flat=True)
        .first()
    )


def project_roles_for_user(*, user, projects) -> dict[int, str]:
    return {p.pk: project_role(user, p) for p in projects}


def pipeline_get(*, project: Project) -> Pipeline:
    """The project's pipeline settings; an unsaved row with the defaults when it
    has none yet (a read never writes: pipeline_update creates the row)."""
    return Pipeline.objects.filter(project=project).first() or Pipeline(project=project)


# COUNT(*), not COUNT(id): SQLite counts an index range without reading a column.
COUNT_ROWS = Func(template="COUNT(*)", output_field=IntegerField())


def counts_each(*, project: Project, querysets: dict[str, QuerySet]) -> dict[str, int]:
    """{name: how many rows each queryset has}, in one query of scalar COUNT
    subqueries (the project's row carries them). Each COUNT with no GROUP BY
    can be a range of one index alone: on SQLite, per item status at 100k
    items, ~5 ms of CPU where GROUP BY status takes ~8 (#15)."""
    columns = {
        f"n{i}": Subquery(qs.order_by().annotate(n=COUNT_ROWS).values("n"))
        for i, qs in enumerate(querysets.values())
    }
    row = (
        Project.objects.filter(pk=project.pk)
        .annotate(**columns)
        .values_list(*columns)
        .first()
    )
    return dict(zip(querysets, row or (0,) * len(querysets), strict=True))


def project_status_counts(*, project: Project) -> dict[str, int]:
    """Items per status (every status, zeros too)."""
    items = Item.objects.filter(project=project)
    return counts_each(
        project=project, querysets={s.value: items.filter(status=s) for s in ItemStatus}
    )


# Up to this many labels, split_label_counts(labels=...) counts each label with
# an EXISTS probe per split item; beyond, the one grouped query over every label
# is cheaper (on SQLite at 12k split items: ~3.6 ms per label, against ~16 ms
# for the grouped query, whose cost is its GROUP BY and COUNT(DISTINCT) sorts).
SPLIT_LABELS_PROBED = 4


def split_label_counts(*, project: Project, labels=None) -> dict[str, dict[str, int]]:
    """Ground truth per split and label: how many items of each split carry each
    label ("" counts the items without shapes), as the stratified split needs.
    One grouped query whatever the size of the ground truth (no ids listed):
    the split items LEFT JOINed to their shapes, a NULL label for a bare item.

    `labels`: count these labels only (the labels of the items a split is to be
    drawn for: ml.splits.assign_splits reads no others); with a few of them,
    on SQLite, one query grouped by split (the order of the split index: no sort), one
    EXISTS probe of the (item, label) index per split item and label. Labels
    no split item carries are left out, as in the full counts."""
    if labels is not None:
        labels = sorted(set(labels))
        # PostgreSQL hashes the join and sorts fast: its grouped query is the
        # cheaper one (24 against 31 ms at 12k split items, bench/RESULTS.md).
        if len(labels) <= SPLIT_LABELS_PROBED and connection.vendor == "sqlite":
            return _split_counts_of(project, labels)
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Item.objects.filter(project=project, split__isnull=False)
        .order_by()  # the model's ordering would make every item its own group
        .values_list("split", "annotations__label")
        .annotate(n=Count("id", distinct=True))
    )
    for split, label, n in rows:
        label = label if label is not None else ""
        if labels is None or label in labels:
            counts.setdefault(split, {})[label] = n
    return counts


def _split_counts_of(project: Project, labels: list[str]) -> dict[str, dict[str, int]]:
    shapes = Annotation.objects.filter(item_id=OuterRef("pk"))
    columns = {
        f"n{i}": Count(
            "pk",
            filter=Q(Exists(shapes.filter(label=label)))
            if label
            else ~Q(Exists(shapes)),
        )
        for i, label in enumerate(labels)
    }
    rows = (
        Item.objects.filter(project=project, split__isnull=False)
        .order_by()
        .values("split")
        .annotate(**columns)
        .values_list("split", *columns)
    )
    counts: dict[str, dict[str, int]] = {}
    for split, *ns in rows:
        found = {label: n for label, n in zip(labels, ns, strict=True) if n}
        if found:
            counts[split] = found
    return counts


def item_labels(*, item: Item) -> set[str]:
    """The labels the item's shapes carry."""
    return set(
        Annotation.objects.filter(item_id=item.pk)
        .order_by()
        .values_list("label", flat=True)
        .distinct()
    )


def item_count_ground_truth(*, project: Project) -> int:
    """How many of the project's items are ground truth (status done)."""
    return Item.objects.filter(project=project, status=ItemStatus.DONE).count()


def item_sizes(*, project: Project, item_ids) -> dict[int, tuple[int, int]]:
    """{item id: (width, height)} of these items of the project."""
    rows = Item.objects.filter(project=project, pk__in=list(item_ids))
    return {pk: (w, h) for pk, w, h in rows.values_list("pk", "width", "height")}


def project_split_counts(*, project: Project) -> dict[str, int]:
    rows = (
        Item.objects.filter(project=project, split__isnull=False)
        .values("split")
        .annotate(n=Count("id"))
    )
    counts = {s.value: 0 for s in Split}
    counts.update({row["split"]: row["n"] for row in rows})
    return counts


def member_list(*, project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )


def member_get(*, project: Project, user_id) -> Membership:
    """The membership of user `user_id` in `project`, with its user; Http404 for
    anyone else."""
    try:
        return Membership.objects.select_related("user").get(
            project=project, user_id=int(user_id)
        )
    except (Membership.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such member") from None


def user_find_active(*, username: str):
    """The active user with this username, or None."""
    return get_user_model().objects.filter(username=username, is_active=True).first()


def event_list(*, project: Project, limit: int = 20) -> list[Event]:
    return list(
        Event.objects.filter(project=project)
        .select_related("actor", "item")
        # The page names the item; its scores and embedding are not read.
        .defer("item__embedding", "item__score_components", "item__priority_reason")[
            :limit
        ]
    )


def item_get_for_user(*, user, item_id, image: bool = False) -> Item:
    """An item the user may see: managers see all of a project's items, annotators and
    reviewers only items they hold or held a task on; a hidden ground-truth
    check's item (annotate.services.checks) only as its image. Http404
    otherwise."""
    try:
        item = Item.objects.select_related("project").get(pk=int(item_id))
    except (Item.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such item") from None
    if user.has_perm(Perm.VIEW_DASHBOARD, item.project):
        return item
    if (
        user.has_perm(Perm.VIEW_PROJECT, item.project)
        and item.tasks.filter(
            Q(assignee=user) & (Q(is_check=False) | Q(is_check=image))
        ).exists()
    ):
        return item
    raise Http404("no such item")


def task_active_for_user(*, project: Project, user, kind: str) -> Task | None:
    """The user's unexpired active task of `kind` in `project`, or None. A read:
    the lease is not renewed (claiming and resuming are POSTs, see
    annotate.services.queue.queue_claim_next)."""
    return (
        Task.objects.select_related("item")
        .filter(
            project=project,
            assignee=user,
            kind=kind,
            status=TaskStatus.ACTIVE,
            lease_expires_at__gt=timezone.now(),
        )
        .first()
    )


def task_list_active(*, project: Project) -> QuerySet[Task]:
    """The project's active claims (lease possibly run out but not yet returned to
    the queue), soonest lease end first, with assignee and item."""
    return (
        Task.objects.filter(project=project, status=TaskStatus.ACTIVE)
        .select_related("assignee", "item")
        .order_by("lease_expires_at", "id")
    )


def task_get_for_release(*, user, task_id, project_id=None) -> Task:
    """A task the user may release: their own, or any task of a project where
    they hold ASSIGN_TASKS. Http404 for everything else (a task's existence is
    not revealed), and for a task outside `project_id` when given."""
    try:
        task = Task.objects.select_related("project", "item", "assignee").get(
            pk=int(task_id)
        )
    except (Task.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such task") from None
    if project_id is not None and task.project_id != project_id:
        raise Http404("no such task")
    if task.assignee_id == user.pk or user.has_perm(Perm.ASSIGN_TASKS, task.project):
        return task
    raise Http404("no such task")


def task_get_for_user(*, user, task_id) -> Task:
    """The user's own task (with its item, project and the user's role in the
    project, read in one query); Http404 for anyone else's or unknown ids."""
    try:
        task = _with_viewer_role(
            Task.objects.select_related("item", "project"), user, "project_id"
        ).get(pk=int(task_id), assignee=user)
    except (Task.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such task") from None
    task.assignee = user  # the filter says so: no query for it later
    task.item.project = task.project  # a task's item is in the task's project
    project_role_known(user, task.project_id, getattr(task, "viewer_role", None))
    return task


def project_ids_named(*, name: str) -> list[int]:
    """Ids of the projects called `name` (names are not unique)."""
    return list(Project.objects.filter(name=name).values_list("pk", flat=True))


def item_splits_frozen(*, project: Project, item_ids) -> dict[int, str]:
    """{item id: split} of those of `item_ids` already in a split (ground truth).
    One query over the project's ground truth (no id list in the SQL: imports
    name tens of thousands)."""
    wanted = set(item_ids)
    rows = Item.objects.filter(project=project, split__isnull=False).order_by()
    return {pk: s for pk, s in rows.values_list("pk", "split") if pk in wanted}


def item_get_in_project(*, project: Project, item_id) -> Item:
    """An item of `project` (the caller checked the project permission), with its
    people. Http404 for unknown ids and other projects' items."""
    try:
        return (
            Item.objects.select_related("project", "last_annotator", "assigned_to")
            .defer("embedding")
            .get(pk=int(item_id), project=project)
        )
    except (Item.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such item") from None


def item_shapes(*, item: Item) -> list[Annotation]:
    return list(Annotation.objects.filter(item=item).order_by("id"))


def item_tasks(*, item: Item, limit: int = 100) -> list[Task]:
    """The item's label and review tasks, newest first: its label versions (a
    submitted label task keeps the shapes it submitted in `draft`)."""
    return list(
        Task.objects.filter(item=item)
        .select_related("assignee")
        .order_by("-created_at", "-id")[:limit]
    )


def item_events(*, item: Item, limit: int = 100) -> list[Event]:
    return list(
        Event.objects.filter(item=item)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def member_users_who_label(*, project: Project) -> list:
    """Members whose role may label, for the assign menu, by username."""
    roles = [r.value for r in ROLE_TABLE[Perm.LABEL]]
    return [
        m.user
        for m in Membership.objects.filter(project=project, role__in=roles)
        .select_related("user")
        .order_by("user__username")
    ]
