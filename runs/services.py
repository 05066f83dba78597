"""Lifecycle of background runs: create, enqueue, claim, heartbeat, finish, cancel,
retry and reap Job rows.

Every state change is a conditional UPDATE (the row's current status decides, not
a prior read), so a re-delivered task, a late worker or a double click are
harmless. Writes that the database answers busy are retried (runs/db.py); none of
them is made while this connection holds a read cursor open.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from alweb.exceptions import Conflict
from runs import queues
from runs.db import is_busy_error, retry_busy
from runs.errors import RunStopped
from runs.models import (
    ACTIVE_JOB_STATUSES,
    RETRYABLE_JOB_STATUSES,
    TERMINAL_JOB_STATUSES,
    Job,
    JobStatus,
)
from runs.signals import run_finished, run_retried

logger = logging.getLogger(__name__)


def _user_or_none(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _insert(**fields) -> Job:
    try:
        with transaction.atomic():
            return Job.objects.create(**fields)
    except IntegrityError:
        raise Conflict(
            f"a {fields['kind']} run is already active for this project",
            kind=fields["kind"],
        ) from None


@transaction.atomic
def jobs_seed(*, rows: list[dict]) -> int:
    """Insert finished runs in bulk (`manage.py seed_large` only: the history of
    a project it has just created). Each row holds Job fields. Returns how many."""
    return len(Job.objects.bulk_create([Job(**row) for row in rows]))


def run_create(
    *,
    project,
    kind: str,
    task: str,
    queue: str,
    actor=None,
    params: dict | None = None,
    model_version_id: int | None = None,
) -> Job:
    """Insert a queued run of `kind` that django-q2 entry point `task` (called with
    the job id) will run on cluster `queue`. Raises Conflict while a run of this
    kind is active for the project: the partial unique index decides, not a read.
    Call run_enqueue(job=...) to send it once the transaction commits."""
    return _insert(
        project=project,
        kind=kind,
        task=task,
        queue=queue,
        params=params or {},
        model_version_id=model_version_id,
        created_by=_user_or_none(actor),
    )


def run_enqueue(*, job: Job) -> None:
    """Send the run to its cluster after the current transaction commits (in sync
    mode, tests, it then runs inline). A broker that refuses it (Redis down)
    fails the run with the reason, so it can be retried: no worker would ever
    claim it, and the reaper only ends running runs."""

    def unsent(exc: Exception) -> None:
        run_finish(
            job.pk,
            status=JobStatus.FAILED,
            error=(
                f"could not send the run to its queue ({type(exc).__name__}: "
                f"{exc}); retry it once the task broker is back"
            ),
        )

    queues.enqueue_on_commit(
        job.task,
        job.pk,
        queue=job.queue or None,
        group=job.kind,
        task_name=f"{job.kind}-{job.pk}",
        on_error=unsent,
    )


def run_request(*, project, kind: str, task: str, queue: str, actor=None):
    """Create and enqueue a run unless one of ``kind`` is already active for
    the project: the Job, or None then (run_create's Conflict)."""
    try:
        with transaction.atomic():
            job = run_create(
                project=project, kind=kind, task=task, queue=queue, actor=actor
            )
            run_enqueue(job=job)
            return job
    except Conflict:
        return None


def run_execute(job_id: int, work, *, name: str, cleanup=None) -> bool:
    """Worker side of a run: claim it, ``result = work(job)``, and end it
    succeeded with that result or failed with the exception's text (never
    stuck "running"). A run another worker claimed is left alone; one
    cancelled or reaped (RunStopped at a heartbeat) just stops. ``cleanup()``
    runs after a stop or a failure. True when the run succeeded."""
    from runs.selectors import run_get

    if not run_claim(job_id):
        return False
    job = run_get(run_id=job_id)
    try:
        result = work(job)
    except RunStopped:
        logger.info("%s run %s stopped: cancelled or reaped", name, job_id)
        if cleanup is not None:
            cleanup()
        return False
    except Exception as exc:  # visible failure, never stuck "running"
        logger.exception("%s run %s failed", name, job_id)
        if cleanup is not None:
            cleanup()
        run_finish(
            job_id, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        return False
    run_finish(job_id, status=JobStatus.SUCCEEDED, result=result)
    return True


def run_claim(job_id: int) -> bool:
    """Flip queued -> running once. False when another delivery got it first or the
    run is no longer queued (cancelled): a re-delivered task is then a no-op."""
    now = timezone.now()

    def write() -> int:
        return Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
        )

    return bool(retry_busy(write))


def run_heartbeat(
    job_id: int, *, progress: float | None = None, message: str | None = None
) -> bool:
    """Record liveness (and progress, 0..1, and a message). False when the run is no
    longer running (cancelled or reaped): the caller should stop.

    A beat the database stays busy for through every retry is skipped with a
    warning (True): one missed beat is harmless, the reaper waits for many."""
    values: dict = {"heartbeat_at": timezone.now()}
    if progress is not None:
        values["progress"] = min(1.0, max(0.0, float(progress)))
    if message is not None:
        values["message"] = message[:500]

    def write() -> int:
        return Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**values)

    try:
        return bool(retry_busy(write))
    except OperationalError as exc:
        if not is_busy_error(exc):
            raise
        logger.warning("heartbeat of run %s skipped: %s", job_id, exc)
        return True


def run_heartbeat_or_stop(job_id: int, **kwargs) -> None:
    """run_heartbeat, raising RunStopped when the run was cancelled or reaped."""
    if not run_heartbeat(job_id, **kwargs):
        raise RunStopped(f"run {job_id} is no longer running")


def _finish(job_id: int, *, status: str, error: str, result, only=None) -> bool:
    if status not in TERMINAL_JOB_STATUSES:
        raise ValueError(f"not a terminal status: {status!r}")
    now = timezone.now()
    values: dict = {"status": status, "finished_at": now, "error": error[:20000]}
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 1.0
    if result is not None:
        values["result"] = result

    def write() -> bool:
        with transaction.atomic():
            active = Job.objects.filter(
                only or Q(), pk=job_id, status__in=ACTIVE_JOB_STATUSES
            )
            row = active.values("project_id", "kind", "model_version_id").first()
            if row is None or not active.update(**values):
                return False
            run_finished.send(
                sender=Job, job_id=job_id, status=status, reason=error, **row
            )
            return True

    return retry_busy(write)


def run_finish(job_id: int, *, status: str, error: str = "", result=None) -> bool:
    """Move a queued or running run to `status` (succeeded, failed, cancelled) once
    and send run_finished in the same transaction. False when it had already
    ended (cancelled or reaped meanwhile). Busy errors are retried; if they last,
    the error propagates and the reaper ends the run once its heartbeat is stale."""
    return _finish(job_id, status=status, error=error, result=result)


def run_cancel(*, job: Job, actor=None) -> Job:
    """Cancel a queued or running run at once (status cancelled, error "cancelled");
    its worker sees it at the next heartbeat and stops. Sends run_finished.
    Raises Conflict when the run has already ended."""
    who = getattr(_user_or_none(actor), "username", "") or "system"
    if not _finish(job.pk, status=JobStatus.CANCELLED, error="cancelled", result=None):
        job.refresh_from_db()
        raise Conflict(f"run {job.pk} has already ended ({job.status})")
    retry_busy(
        lambda: Job.objects.filter(pk=job.pk).update(message=f"cancelled by {who}")
    )
    job.refresh_from_db()
    return job


def run_retry(*, job: Job, actor=None) -> Job:
    """Queue a failed or cancelled run again as a new attempt: same kind, params,
    entry point, queue and model version, `attempt` + 1, `retry_of` the old one.

    Raises Conflict when the run did not fail or was not cancelled, when it was
    already retried, while another run of its kind is active for the project, or
    when a run_retried receiver refuses (e.g. its model version is gone).
    """
    if job.status not in RETRYABLE_JOB_STATUSES:
        raise Conflict(f"only a failed or cancelled run can be retried ({job.status})")
    if not job.task:
        raise Conflict("this run does not say how to run it again")
    later = Job.objects.filter(retry_of=job).values_list("pk", flat=True).first()
    if later is not None:
        raise Conflict(f"run {job.pk} was already retried as run {later}", run=later)

    @transaction.atomic
    def write() -> Job:
        new = _insert(
            project_id=job.project_id,
            kind=job.kind,
            task=job.task,
            queue=job.queue,
            params=job.params,
            model_version_id=job.model_version_id,
            attempt=job.attempt + 1,
            retry_of=job,
            created_by=_user_or_none(actor),
        )
        run_retried.send(sender=Job, job=new, previous=job)
        run_enqueue(job=new)
        return new

    return retry_busy(write)


def runs_reap(*, stale_seconds: int | None = None) -> list[int]:
    """Mark running runs whose heartbeat is older than `stale_seconds` failed (their
    worker died, was killed by a timeout, or could not write its end). Sends
    run_finished for each. Returns the ids reaped."""
    stale = stale_seconds or settings.ALWEB_HEARTBEAT_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=stale)
    silent = Q(heartbeat_at__lt=cutoff) | Q(
        heartbeat_at__isnull=True, started_at__lt=cutoff
    )
    dead = list(
        Job.objects.filter(silent, status=JobStatus.RUNNING).values_list("pk", "kind")
    )
    reason = f"worker stopped responding (no heartbeat for {stale} s)"
    reaped = []
    for pk, kind in dead:
        # The condition is checked again in the UPDATE: a beat since the read wins.
        if _finish(pk, status=JobStatus.FAILED, error=reason, result=None, only=silent):
            reaped.append(pk)
            logger.warning("reaped %s run %s: %s", kind, pk, reason)
    return reaped
