"""Review models of annotate that live beside annotate.models: the "possible
label error" flags of the re-review queue."""

from django.conf import settings
from django.db import models


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Label confirmed"
    FIXED = "fixed", "Reopened for a fix"


class LabelErrorFlag(models.Model):
    """A "possible label error" on an approved item, from one model version's
    predictions (the loop passes the version as plain data). One per item and
    version: a confirmed one keeps that version from flagging the item again."""

    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(
        "annotate.Item", on_delete=models.CASCADE, related_name="+"
    )
    model_version_id = models.PositiveBigIntegerField()
    model_name = models.CharField(max_length=100, blank=True, default="")
    item_version = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=16)  # the top candidate's (ml.label_errors)
    score = models.FloatField()
    # Every candidate of the item: kind, score, reason, label, predicted, iou,
    # confidence, gt_index, gt_bbox, pred_bbox.
    candidates = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "model_version_id"], name="one_flag_per_item_version"
            )
        ]
        indexes = [models.Index(fields=["project", "status", "-score"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.score:.2f} on item {self.item_id}"
