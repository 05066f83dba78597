"""Background runs (training, scoring, export, ...): one Job row per attempt."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alweb.roles import Perm


class JobKind(models.TextChoices):
    TRAIN = "train", "Training"
    SCORE = "score", "Scoring"
    EVALUATE = "evaluate", "Evaluation"
    EXPORT = "export", "Export"
    IMPORT = "import", "Import"
    BACKTEST = "backtest", "Backtest"
    LABEL_ERRORS = "label_errors", "Label-error check"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
RETRYABLE_JOB_STATUSES = (JobStatus.FAILED, JobStatus.CANCELLED)

# The permission (alweb/roles.py) needed to cancel or retry a run of each kind.
KIND_PERMS: dict[str, Perm] = {
    JobKind.TRAIN: Perm.TRAIN,
    JobKind.SCORE: Perm.TRAIN,
    JobKind.EVALUATE: Perm.TRAIN,
    JobKind.EXPORT: Perm.EXPORT,
    JobKind.IMPORT: Perm.UPLOAD_ITEMS,
    JobKind.BACKTEST: Perm.BACKTEST,
    JobKind.LABEL_ERRORS: Perm.TRAIN,
}


class Job(models.Model):
    """One attempt of a background run, with the status the UI polls.

    `task` and `queue` say which django-q2 entry point runs it on which cluster,
    so that a retry (a new Job with `retry_of` set and `attempt` + 1) can send it
    again without knowing the app that owns the kind.
    """

    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=12, choices=JobKind.choices)
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)  # 0..1
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # models_mgmt.ModelVersion id for train/score/evaluate runs (no FK: runs
    # imports neither app's models but annotate.Project).
    model_version_id = models.PositiveBigIntegerField(null=True, blank=True)
    task = models.CharField(max_length=200, blank=True)  # dotted django-q2 func
    queue = models.CharField(max_length=40, blank=True)  # django-q2 cluster name
    attempt = models.PositiveIntegerField(default=1)
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one active run of a kind per project (e.g. one training run).
            models.UniqueConstraint(
                fields=["project", "kind"],
                condition=Q(status__in=ACTIVE_JOB_STATUSES),
                name="job_one_active_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in JobStatus]),
                name="job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="job_progress_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="job_heartbeat_idx"),
            models.Index(fields=["project", "-created_at"], name="job_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def heartbeat_age_seconds(self) -> float | None:
        """Seconds since the worker last said it was alive (None before it started)."""
        if self.heartbeat_at is None:
            return None
        return max(0.0, (timezone.now() - self.heartbeat_at).total_seconds())
