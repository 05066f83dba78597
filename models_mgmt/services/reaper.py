"""Finds runs whose worker died (stale heartbeat) and marks them failed."""

import logging

from django.conf import settings
from django.utils import timezone

from annotate.models import JobKind, JobStatus
from annotate.services.jobs import job_finish, jobs_find_dead
from models_mgmt.models import ACTIVE_MODEL_STATUSES, ModelStatus, ModelVersion

logger = logging.getLogger(__name__)


def reap(*, stale_seconds: int | None = None) -> list[int]:
    """Mark running jobs with a heartbeat older than `stale_seconds` failed, and
    their model versions too (a retry can then start). Returns the job ids."""
    stale = stale_seconds or settings.ALWEB_HEARTBEAT_STALE_SECONDS
    reaped = []
    for job in jobs_find_dead(stale_seconds=stale):
        reason = f"worker stopped responding (no heartbeat for {stale} s)"
        if job_finish(job.pk, status=JobStatus.FAILED, error=reason):
            reaped.append(job.pk)
            logger.warning("reaped %s job %s: %s", job.kind, job.pk, reason)
            if job.kind == JobKind.TRAIN and job.model_version_id:
                ModelVersion.objects.filter(
                    pk=job.model_version_id, status__in=ACTIVE_MODEL_STATUSES
                ).update(
                    status=ModelStatus.FAILED, error=reason, finished_at=timezone.now()
                )
    return reaped
