"""Reads of models_mgmt: versions, evaluations, comparisons and training settings
of a project."""

import math
from dataclasses import dataclass

from django.db.models import Max, QuerySet
from django.http import Http404

from alweb.roles import Perm
from annotate.models import Pipeline, Project
from annotate.selectors import pipeline_get, project_get_for_user
from annotate.selectors_loop import item_ids_in_split
from ml import config as ml_config
from models_mgmt.models import (
    Comparison,
    Evaluation,
    ModelVersion,
    Segmenter,
    TrainingSettings,
)


def model_version_list(*, project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).select_related("parent")


def model_version_get_for_user(*, user, version_id, perm: Perm = Perm.VIEW_DASHBOARD):
    """The version if the user may `perm` on its project (404 for non-members)."""
    try:
        version = ModelVersion.objects.select_related("project", "parent").get(
            pk=int(version_id)
        )
    except (ModelVersion.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such model") from None
    project_get_for_user(user=user, project_id=version.project_id, perm=perm)
    return version


def model_version_get(*, version_id: int) -> ModelVersion | None:
    """The version with its parent and project, or None when it is gone."""
    return (
        ModelVersion.objects.select_related("parent", "project")
        .filter(pk=version_id)
        .first()
    )


def best_model(*, project: Project) -> ModelVersion | None:
    """The project's best (promoted) model version, or None before any."""
    return ModelVersion.objects.filter(project=project, is_best=True).first()


def base_model_newest(*, project: Project) -> ModelVersion | None:
    """The newest registered base model of the project, or None."""
    return (
        ModelVersion.objects.filter(project=project, is_base=True)
        .order_by("-number")
        .first()
    )


def training_last_started_at(*, project: Project):
    """When the newest trained (not base) version was created, or None."""
    return (
        ModelVersion.objects.filter(project=project, is_base=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def next_number(*, project: Project) -> int:
    """The number the project's next model version gets (v1, v2, ...)."""
    top = ModelVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"]
    return (top or 0) + 1


def default_architecture(*, project: Project) -> str:
    """Segmentation when the project draws polygons, detection otherwise."""
    return "yolov8n-seg.yaml" if "polygon" in project.kinds else "yolov8n.yaml"


def evaluation_list(*, project) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(project=project).select_related("model_version")


def comparison_list(*, project) -> QuerySet[Comparison]:
    return Comparison.objects.filter(project=project).select_related(
        "candidate", "incumbent"
    )


def training_settings_get(*, project: Project) -> TrainingSettings:
    """The project's training settings; an unsaved row with the defaults when it
    has none (a read never writes: training_settings_update creates the row)."""
    return TrainingSettings.objects.filter(project=project).first() or TrainingSettings(
        project=project
    )


@dataclass(frozen=True)
class PipelineSettings:
    """The pipeline resource of the API (API.md): annotate's selection and split
    settings with models_mgmt's training settings and the best model, by the
    names of the API (models_mgmt.serializers.PipelineSerializer)."""

    pipeline: Pipeline
    training: TrainingSettings
    best_model: int | None

    @property
    def strategy(self) -> str:
        return self.pipeline.strategy

    @property
    def strategy_params(self) -> dict:
        return self.pipeline.strategy_params

    @property
    def cold_start_strategy(self) -> str:
        return self.pipeline.cold_start_strategy

    @property
    def split(self) -> dict:
        p = self.pipeline
        return {
            "train": p.split_train,
            "val": p.split_val,
            "test": p.split_test,
            "seed": p.split_seed,
        }

    @property
    def consensus_share(self) -> float:
        return self.pipeline.consensus_share

    @property
    def thresholds(self) -> dict[str, float]:
        """The error-analysis thresholds by their API names (ml.thresholds)."""
        p, t = self.pipeline, self.training
        return {
            "label_error_min_score": t.label_error_min_score,
            "ood": p.ood_threshold,
            "drift_warn_share": p.drift_warn_share,
            "error_match_iou": t.error_match_iou,
            "error_background_iou": t.error_background_iou,
            "error_min_confidence": t.error_min_confidence,
        }

    @property
    def check_share(self) -> float:
        return self.pipeline.check_share

    @property
    def model_config(self) -> dict:
        return self.training.model_config

    @property
    def comparison_config(self) -> dict:
        return self.training.comparison_config

    @property
    def triggers(self) -> dict:
        t = self.training
        return {
            "cron": t.trigger_cron,
            "every_n_approved": t.trigger_every_n_approved,
            "kpi": t.trigger_kpi,
        }


def pipeline_settings_get(*, project: Project) -> PipelineSettings:
    best = best_model(project=project)
    return PipelineSettings(
        pipeline=pipeline_get(project=project),
        training=training_settings_get(project=project),
        best_model=best.pk if best else None,
    )


@dataclass(frozen=True)
class Readiness:
    """Whether a new version can be promoted at all under the quality gate: the
    test split's size against the comparison's minimum, and the floor."""

    test_items: int
    min_test_items: int
    min_score: float
    metric: str
    approvals_needed: int | None  # about how many more approvals; None: no test split

    @property
    def test_items_missing(self) -> int:
        return max(0, self.min_test_items - self.test_items)


def training_readiness(*, project: Project) -> Readiness:
    """The quality gate as it stands (see ml.comparison.compare): how many test
    items there are, how many a promotion needs, and about how many more items
    must be approved for that (test items are a share of new approvals)."""
    cfg = ml_config.validate_comparison_config(
        training_settings_get(project=project).comparison_config or {}
    )
    n_test = len(item_ids_in_split(project=project, split="test"))
    missing = max(0, cfg["min_test_items"] - n_test)
    share = pipeline_get(project=project).split_test
    approvals = None if share <= 0 else math.ceil(missing / share)
    return Readiness(
        n_test, cfg["min_test_items"], cfg["min_score"], cfg["metric"], approvals
    )


def segmenter_get(*, project) -> Segmenter | None:
    """The project's segmentation weights (click-to-segment), or None."""
    return Segmenter.objects.filter(project=project).first()


def segmenter_present(*, project_id: int) -> bool:
    """Whether the project has segmentation weights (the label page's Segment
    tool is enabled; read by annotate through settings.ALWEB_SEGMENTER_PRESENT)."""
    return Segmenter.objects.filter(project_id=project_id).exists()
