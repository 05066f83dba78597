"""Writes of the pipeline resource (API.md): annotate's selection and split settings
with models_mgmt's training settings, changed together or not at all."""

from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Project
from annotate.services import pipeline as annotate_pipeline
from annotate.services.events import event_log
from models_mgmt.models import TrainingSettings
from models_mgmt.selectors import PipelineSettings, pipeline_settings_get
from models_mgmt.serializers import PipelineSerializer

TRAINING_SETTINGS_FIELDS = frozenset(
    {
        "model_config",
        "comparison_config",
        "trigger_cron",
        "trigger_every_n_approved",
        "trigger_kpi",
        "label_error_min_score",
        "error_match_iou",
        "error_background_iou",
        "error_min_confidence",
    }
)


def training_settings_create(*, project: Project) -> TrainingSettings:
    """The project's training settings row with the defaults (made with the project,
    on annotate's project_created); an existing row is returned unchanged."""
    settings, _ = TrainingSettings.objects.get_or_create(project=project)
    return settings


@transaction.atomic
def training_settings_update(
    *, project: Project, values: dict[str, object]
) -> TrainingSettings:
    """Set TrainingSettings fields (checked values, keys of TRAINING_SETTINGS_FIELDS)
    of `project`, creating its row if it has none; the cron schedule follows
    (receivers.sync_cron_schedule). Logs nothing: the caller logs the change.

    Raises ValueError for a key that is not a training-settings field,
    ValidationError when the row's own checks refuse the values.
    """
    unknown = set(values) - TRAINING_SETTINGS_FIELDS
    if unknown:
        raise ValueError(f"not training settings: {', '.join(sorted(unknown))}")
    settings, _ = TrainingSettings.objects.select_for_update().get_or_create(
        project=project
    )
    for field, value in values.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    return settings


@transaction.atomic
def pipeline_update(*, project: Project, actor, data) -> PipelineSettings:
    """Apply a partial update in the API's shape (PATCH /pipeline/) to both apps'
    rows in one transaction, and log one pipeline_updated event naming the fields.

    PipelineSerializer holds the rules; raises ValidationError({field: [reason]})
    naming every bad field, and then nothing changes.
    """
    serializer = PipelineSerializer(
        instance=pipeline_settings_get(project=project), data=data, partial=True
    )
    if not serializer.is_valid():
        raise ValidationError(
            {field: [str(m) for m in msgs] for field, msgs in serializer.errors.items()}
        )
    values = serializer.validated_data
    annotate_pipeline.pipeline_update(project=project, values=values["pipeline"])
    training_settings_update(project=project, values=values["training"])
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="pipeline_updated",
        fields=sorted([*values["pipeline"], *values["training"]]),
    )
    return pipeline_settings_get(project=project)
