"""Lifecycle of background runs (Job rows): start, claim, heartbeat, finish, reap."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from annotate.models import Job, JobStatus, Project
from annotate.services.errors import Conflict

TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def job_create(
    *,
    project: Project,
    kind: str,
    actor=None,
    params=None,
    model_version_id: int | None = None,
) -> Job:
    """Insert a queued run. Raises Conflict while a run of this kind is active for
    the project (the database's partial unique index decides, not a prior read)."""
    try:
        with transaction.atomic():
            return Job.objects.create(
                project=project,
                kind=kind,
                params=params or {},
                model_version_id=model_version_id,
                created_by=actor
                if actor is not None and actor.is_authenticated
                else None,
            )
    except IntegrityError:
        raise Conflict(f"a {kind} run is already active for this project") from None


def job_claim(job_id: int) -> bool:
    """Flip queued -> running once; False when another delivery got it first or the
    job is no longer queued (re-delivered tasks become harmless no-ops)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
        )
        if claimed:
            Job.objects.filter(pk=job_id).update(attempts=1)
    return bool(claimed)


def job_heartbeat(
    job_id: int, *, progress: float | None = None, message: str | None = None
) -> bool:
    """Record liveness and progress; False when the job was cancelled or reaped
    meanwhile (the caller should stop)."""
    values: dict = {"heartbeat_at": timezone.now()}
    if progress is not None:
        values["progress"] = min(1.0, max(0.0, float(progress)))
    if message is not None:
        values["message"] = message[:500]
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**values)
    )


def job_finish(job_id: int, *, status: str, error: str = "", result=None) -> bool:
    """Move a running or queued job to a terminal state (once)."""
    assert status in TERMINAL
    values = {"status": status, "finished_at": timezone.now(), "error": error[:20000]}
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 1.0
    if result is not None:
        values["result"] = result
    return bool(
        Job.objects.filter(
            pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).update(**values)
    )


def jobs_find_dead(*, stale_seconds: int) -> list[Job]:
    """Running jobs whose heartbeat is older than `stale_seconds` (worker died)."""
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    return list(Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff))
