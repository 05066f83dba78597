"""Reads of background runs, with the visibility rules (non-members see nothing)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Max, QuerySet
from django.http import Http404

from alweb.roles import Perm
from runs.models import (
    ACTIVE_JOB_STATUSES,
    KIND_PERMS,
    RETRYABLE_JOB_STATUSES,
    Job,
    JobKind,
    JobStatus,
)


def run_list(*, project, kind: str | None = None, status: str | None = None):
    """Runs of a project, newest first, optionally of one kind and status.
    Unknown values raise ValueError naming the field."""
    qs = Job.objects.filter(project=project)
    if kind:
        if kind not in JobKind.values:
            raise ValueError(f"kind must be one of {', '.join(JobKind.values)}")
        qs = qs.filter(kind=kind)
    if status:
        if status not in JobStatus.values:
            raise ValueError(f"status must be one of {', '.join(JobStatus.values)}")
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def run_list_active(*, project) -> QuerySet[Job]:
    return Job.objects.filter(project=project, status__in=ACTIVE_JOB_STATUSES)


def run_list_recent(*, project, kinds=None, limit: int = 15) -> list[Job]:
    qs = Job.objects.filter(project=project)
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    return list(qs.order_by("-created_at", "-id")[:limit])


def run_latest_per_kind(*, project, kinds) -> dict[str, Job]:
    """The newest run of each of `kinds` in the project (ids grow with creation),
    in two queries whatever the number of runs; kinds without a run are absent."""
    newest = (
        Job.objects.filter(project=project, kind__in=list(kinds))
        .order_by()
        .values("kind")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    return {job.kind: job for job in Job.objects.filter(pk__in=list(newest))}


def run_list_for_model_version(*, project, model_version_id: int) -> list[Job]:
    """Every run (training, scoring) recorded for one model version, newest first."""
    return list(
        Job.objects.filter(project=project, model_version_id=model_version_id)
        .select_related("project")
        .order_by("-created_at", "-id")[:50]
    )


def runs_active(*, project, kinds=None) -> bool:
    qs = run_list_active(project=project)
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    return qs.exists()


def run_get(*, run_id, project=None, kind: str | None = None) -> Job:
    """The run with this id (of `project` and `kind` if given); Http404 otherwise."""
    qs = Job.objects.select_related("project")
    if project is not None:
        qs = qs.filter(project=project)
    if kind:
        qs = qs.filter(kind=kind)
    try:
        return qs.get(pk=int(run_id))
    except (Job.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such run") from None


def run_perm(kind: str) -> Perm:
    """The permission that cancelling or retrying a run of `kind` needs."""
    return KIND_PERMS.get(kind, Perm.EDIT_PIPELINE)


def run_get_for_user(*, user, run_id, act: bool = False, project_id=None) -> Job:
    """The run if `user` may see it (VIEW_DASHBOARD) and, with `act`, cancel or
    retry it (run_perm of its kind).

    Raises Http404 for unknown ids, runs of another project than `project_id`, and
    non-members (a project's existence is never revealed); PermissionDenied for
    members whose role lacks the permission."""
    try:
        job = Job.objects.select_related("project").get(pk=int(run_id))
    except (Job.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such run") from None
    if project_id is not None and str(job.project_id) != str(project_id):
        raise Http404("no such run")
    if not user.has_perm(Perm.VIEW_PROJECT, job.project):
        raise Http404("no such run")
    for needed in (Perm.VIEW_DASHBOARD, run_perm(job.kind) if act else None):
        if needed is not None and not user.has_perm(needed, job.project):
            raise PermissionDenied(
                f"your role in this project does not allow {needed.name.lower()}"
            )
    return job


def run_actions_for_user(*, user, job: Job) -> dict[str, bool]:
    """Which buttons to show for a run: {"cancel": bool, "retry": bool}. Display
    only: the cancel and retry views check again."""
    allowed = user.has_perm(run_perm(job.kind), job.project_id)
    return {
        "cancel": allowed and job.status in ACTIVE_JOB_STATUSES,
        "retry": allowed and job.status in RETRYABLE_JOB_STATUSES and bool(job.task),
    }
