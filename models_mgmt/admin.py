"""Django admin for model versions, evaluations, comparisons and training settings."""

from django.contrib import admin

from models_mgmt.models import Comparison, Evaluation, ModelVersion, TrainingSettings


@admin.register(TrainingSettings)
class TrainingSettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "trigger_cron", "trigger_every_n_approved", "updated_at"]
    search_fields = ["project__name"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "status",
        "progress",
        "is_best",
        "is_base",
        "parent",
        "created_at",
    ]
    list_filter = ["project", "status", "is_best", "is_base", "task"]
    search_fields = ["name"]
    readonly_fields = ["train_item_ids", "val_item_ids", "metrics", "log"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "project", "created_at", "map50"]
    list_filter = ["project"]

    @admin.display(description="mAP50")
    def map50(self, obj):
        return obj.metrics.get("map50")


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "candidate",
        "incumbent",
        "metric",
        "candidate_value",
        "incumbent_value",
        "winner",
        "promoted",
        "created_at",
    ]
    list_filter = ["project", "winner", "promoted"]
