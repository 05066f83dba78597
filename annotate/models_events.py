"""Models of annotate that live beside annotate.models: the tags managers put
on items and the project's event log."""

from django.conf import settings
from django.db import models

TAG_MAX_LENGTH = 64


class ItemTag(models.Model):
    """A free-form tag a manager puts on an item (the item browser filters by it)."""

    item = models.ForeignKey(
        "annotate.Item", on_delete=models.CASCADE, related_name="tags"
    )
    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, related_name="item_tags"
    )
    name = models.CharField(max_length=TAG_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="item_tag_unique"),
        ]
        indexes = [
            models.Index(fields=["project", "name"], name="item_tag_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} on item {self.item_id}"


class Event(models.Model):
    """Who did what and when: claims, submits, reviews, triggers, promotions."""

    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verb = models.CharField(max_length=40)
    item = models.ForeignKey(
        "annotate.Item", null=True, blank=True, on_delete=models.SET_NULL
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="event_project_idx")
        ]

    def __str__(self) -> str:
        return f"{self.verb} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"
