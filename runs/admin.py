"""Django admin for background runs."""

from django.contrib import admin

from runs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "kind",
        "status",
        "attempt",
        "progress",
        "queue",
        "created_at",
        "heartbeat_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "queue", "project"]
    raw_id_fields = ["retry_of"]
