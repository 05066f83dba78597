"""Writes of annotate's pipeline settings (strategy, cold start, split) and labels.

The values come checked (annotate.validators, through the API serializer or the
HTML form); models_mgmt.services.pipeline composes this with the training settings.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Annotation, Pipeline, Project
from annotate.services.events import event_log
from annotate.validators import SELECTION_FIELDS

PIPELINE_FIELDS = frozenset(
    {
        "strategy",
        "strategy_params",
        "cold_start_strategy",
        "split_train",
        "split_val",
        "split_test",
        "split_seed",
        "consensus_share",
        "ood_threshold",
        "drift_warn_share",
        "check_share",
    }
)
__all__ = ["PIPELINE_FIELDS", "SELECTION_FIELDS", "pipeline_update"]


@transaction.atomic
def pipeline_update(*, project: Project, values: dict[str, object]) -> Pipeline:
    """Set Pipeline fields (checked values, keys of PIPELINE_FIELDS) of `project`,
    creating its row if it has none. Logs nothing: the caller logs the whole
    settings change once.

    Raises ValueError for a key that is not a Pipeline field, ValidationError when
    the row's own constraints refuse the values; nothing changes then.
    """
    unknown = set(values) - PIPELINE_FIELDS
    if unknown:
        raise ValueError(f"not pipeline fields: {', '.join(sorted(unknown))}")
    pipeline, _ = Pipeline.objects.select_for_update().get_or_create(project=project)
    for field, value in values.items():
        setattr(pipeline, field, value)
    pipeline.full_clean()
    pipeline.save()
    return pipeline


@transaction.atomic
def project_labels_update(*, project: Project, actor, labels: list[str]) -> Project:
    """Replace the label list: renames are not inferred; a label still used by an
    annotation cannot be removed (ValidationError names it)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    removed = set(project.labels) - set(labels or [])
    in_use = sorted(
        set(
            Annotation.objects.filter(
                item__project=project, label__in=removed
            ).values_list("label", flat=True)
        )
    )
    if in_use:
        raise ValidationError(
            {"labels": f"labels in use cannot be removed: {', '.join(in_use)}"}
        )
    project.labels = labels
    project.full_clean()
    project.save(update_fields=["labels"])
    event_log(project_id=project.pk, actor=actor, verb="labels_updated", labels=labels)
    return project
