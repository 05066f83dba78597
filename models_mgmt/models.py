"""Model versions, their evaluations on frozen test sets, and comparisons."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotate.models import Project
from ml.thresholds import DEFAULTS as T


class TrainingSettings(models.Model):
    """Training settings of a project: model and comparison configuration and the
    triggers of the lower flow (cron, every N approved, KPI). One row per project,
    made with the project (receivers.training_settings_create on project_created);
    a project without one reads the defaults (selectors.training_settings_get)."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="training_settings"
    )
    model_config = models.JSONField(default=dict, blank=True)
    comparison_config = models.JSONField(default=dict, blank=True)
    trigger_cron = models.CharField(max_length=100, blank=True)
    trigger_every_n_approved = models.PositiveIntegerField(null=True, blank=True)
    # {"metric": "map50", "target": 0.5, "min_items": 20} or empty.
    trigger_kpi = models.JSONField(default=dict, blank=True)
    # Error-analysis thresholds (ml.thresholds): label-error flags, error buckets.
    label_error_min_score = models.FloatField(default=T["label_error_min_score"])
    error_match_iou = models.FloatField(default=T["error_match_iou"])
    error_background_iou = models.FloatField(default=T["error_background_iou"])
    error_min_confidence = models.FloatField(default=T["error_min_confidence"])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "training settings"

    def __str__(self) -> str:
        return f"training settings of {self.project}"


class ModelStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training"
    EVALUATING = "evaluating", "Evaluating"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_MODEL_STATUSES = [
    ModelStatus.QUEUED,
    ModelStatus.TRAINING,
    ModelStatus.EVALUATING,
]


class ModelTask(models.TextChoices):
    DETECT = "detect", "Detection"
    SEGMENT = "segment", "Segmentation"


def weights_upload_to(instance: "ModelVersion", filename: str) -> str:
    return f"models/{instance.project_id}/{uuid.uuid4().hex}.pt"


class ModelVersion(models.Model):
    """A base model (registered) or a trained version cloned from its parent."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="model_versions"
    )
    number = models.PositiveIntegerField()  # auto-incremented per project: v1, v2, ...
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    is_base = models.BooleanField(default=False)
    task = models.CharField(
        max_length=8, choices=ModelTask.choices, default=ModelTask.DETECT
    )
    # Architecture file name (e.g. "yolov8n.yaml") when built from scratch.
    architecture = models.CharField(max_length=100, blank=True)
    config = models.JSONField(default=dict, blank=True)
    class_names = models.JSONField(default=list, blank=True)
    train_item_ids = models.JSONField(default=list, blank=True)
    val_item_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=12, choices=ModelStatus.choices, default=ModelStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    epoch = models.PositiveIntegerField(default=0)
    epochs = models.PositiveIntegerField(default=0)
    losses = models.JSONField(default=dict, blank=True)
    # One entry per finished epoch: {"epoch": n, <loss or metric name>: value}.
    history = models.JSONField(default=list, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    weights = models.FileField(upload_to=weights_upload_to, max_length=255, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    is_best = models.BooleanField(default=False)
    # The best version when this one was last promoted forward (not by a roll
    # back): rolling back from this version promotes that one again.
    promoted_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
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

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="model_number_unique"
            ),
            # One best model per project.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(is_best=True),
                name="model_one_best_per_project",
            ),
            # At most one version training at a time per project.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=ACTIVE_MODEL_STATUSES) & Q(is_base=False),
                name="model_one_active_training_per_project",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ModelStatus]),
                name="model_status_valid",
            ),
            # Only a finished version can be the best one.
            models.CheckConstraint(
                condition=Q(is_best=False) | Q(status=ModelStatus.DONE),
                name="model_best_is_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.name}"


class Evaluation(models.Model):
    """A model version scored on a frozen set of test items."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="evaluations"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="evaluations"
    )
    test_item_ids = models.JSONField(default=list)
    # {"map50", "map50_95", "precision", "recall", "per_class", "confusion_matrix"}
    metrics = models.JSONField(default=dict)
    # A test item it used was reopened for correction after it ran: its figures
    # describe labels that are no longer the ground truth.
    stale = models.BooleanField(default=False)
    # The error analysis (ml.errors) once its EvaluationError rows are all
    # stored: {"min_confidence", "iou", "background_iou", "items",
    # "true_positive": {class: n}, "shapes": {class: n}}; empty before (an
    # evaluation made before error analysis, or one whose pass did not finish).
    error_stats = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"evaluation of {self.model_version} on {len(self.test_item_ids)} items"


class EvaluationError(models.Model):
    """One error of a version on one test item (ml.errors.ErrorRecord, true
    positives left out: they are counted in Evaluation.error_stats).

    ``item_id`` is the annotate item (a plain id, like test_item_ids: the
    record outlives nothing but its evaluation). ``cls`` is the class the
    error is counted under (the shape's, else the predicted one); ``label``
    the shape's class ("" for a background false positive), ``predicted``
    the prediction's ("" for a miss no prediction explains). ``gt_index`` and
    ``pred_index`` index the item's shapes (annotation id order) and the
    model's detections; ``bbox`` is the prediction's [x, y, w, h] in pixels.
    """

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="errors"
    )
    item_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=12)
    cls = models.CharField(max_length=100)
    label = models.CharField(max_length=100, blank=True)
    predicted = models.CharField(max_length=100, blank=True)
    gt_index = models.PositiveIntegerField(null=True, blank=True)
    pred_index = models.PositiveIntegerField(null=True, blank=True)
    iou = models.FloatField(default=0.0)
    confidence = models.FloatField(null=True, blank=True)
    bbox = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "item_id", "id"]
        indexes = [
            models.Index(
                fields=["evaluation", "kind", "cls"], name="evaluation_error_bucket"
            ),
            models.Index(
                fields=["evaluation", "item_id"], name="evaluation_error_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.cls} on item {self.item_id}"


class Comparison(models.Model):
    """Candidate vs incumbent on the same test items, and whether it was promoted."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="comparisons"
    )
    candidate = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="comparisons_as_candidate"
    )
    incumbent = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comparisons_as_incumbent",
    )
    config = models.JSONField(default=dict)
    metric = models.CharField(max_length=20)
    candidate_value = models.FloatField(null=True, blank=True)
    incumbent_value = models.FloatField(null=True, blank=True)
    winner = models.CharField(
        max_length=10, choices=[("candidate", "Candidate"), ("incumbent", "Incumbent")]
    )
    promoted = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    test_item_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.candidate} vs {self.incumbent}: {self.winner}"


def segmenter_upload_to(instance: "Segmenter", filename: str) -> str:
    # ultralytics tells the SAM model by the file name's ending: the checked
    # name is kept, in a folder of its own (no storage suffix can change it).
    return f"segmenters/{instance.project_id}/{uuid.uuid4().hex}/{filename}"


class Segmenter(models.Model):
    """A project's promptable segmentation weights (SAM, MobileSAM, SAM 2) for
    click-to-segment on the label page: at most one per project, uploaded by an
    owner or developer (services.segmenter), never downloaded."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="segmenter"
    )
    weights = models.FileField(upload_to=segmenter_upload_to, max_length=255)
    file_name = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return f"segmenter {self.file_name} of {self.project}"
