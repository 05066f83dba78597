"""Serializers of models_mgmt: the pipeline resource (input rules and output) and
the output of model versions, evaluations and comparisons."""

from rest_framework import serializers

from annotate.validators import COLD_START_STRATEGIES, selection_settings_clean
from ml import thresholds
from ml.selection import STRATEGY_NAMES
from models_mgmt.models import ModelVersion
from models_mgmt.validators import KPI_METRICS, training_settings_clean

READ_ONLY = {"best_model"}


class SplitSerializer(serializers.Serializer):
    train = serializers.FloatField()
    val = serializers.FloatField()
    test = serializers.FloatField()
    seed = serializers.IntegerField()


class KpiSerializer(serializers.Serializer):
    """The KPI trigger; an empty object when there is none."""

    metric = serializers.ChoiceField(choices=KPI_METRICS, required=False)
    target = serializers.FloatField(min_value=0, max_value=1, required=False)
    min_items = serializers.IntegerField(min_value=1, required=False)


class TriggersSerializer(serializers.Serializer):
    cron = serializers.CharField(
        allow_blank=True, help_text="5 cron fields, or empty for no schedule"
    )
    every_n_approved = serializers.IntegerField(allow_null=True, min_value=1)
    kpi = KpiSerializer(help_text="empty object: no KPI trigger")


def _threshold_field(name: str) -> serializers.FloatField:
    spec = thresholds.BY_NAME[name]
    return serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text=f"{spec.help} (default {spec.default:g})",
    )


class ThresholdsSerializer(serializers.Serializer):
    """The error-analysis thresholds (ml.thresholds); a PATCH names only those
    that change. Every one is a number from 0 to 1; error_background_iou must
    stay below error_match_iou."""

    label_error_min_score = _threshold_field("label_error_min_score")
    ood = _threshold_field("ood")
    drift_warn_share = _threshold_field("drift_warn_share")
    error_match_iou = _threshold_field("error_match_iou")
    error_background_iou = _threshold_field("error_background_iou")
    error_min_confidence = _threshold_field("error_min_confidence")


# Where each threshold is stored: ("pipeline" | "training", model field).
THRESHOLD_STORE = {
    "ood": ("pipeline", "ood_threshold"),
    "drift_warn_share": ("pipeline", "drift_warn_share"),
    **{
        name: ("training", name)
        for name in (
            "label_error_min_score",
            "error_match_iou",
            "error_background_iou",
            "error_min_confidence",
        )
    },
}


def _thresholds_clean(instance, data: dict, errors: dict, out: dict) -> None:
    """Check data["thresholds"] (when given) and put the changed values into
    out["pipeline"] / out["training"] by their model fields."""
    if "thresholds" not in data:
        return
    try:
        changed = thresholds.thresholds_clean(data["thresholds"], instance.thresholds)
    except ValueError as exc:
        errors["thresholds"] = str(exc)
        return
    for name, value in changed.items():
        app, field = THRESHOLD_STORE[name]
        out[app][field] = value


class PipelineSerializer(serializers.Serializer):
    """GET and PATCH /projects/{id}/pipeline/ (API.md). The instance is a
    models_mgmt.selectors.PipelineSettings; a PATCH names only what changes.

    Validation applies both apps' rules (annotate.validators for selection and
    split, models_mgmt.validators for the training settings) and reports every
    bad top-level field at once as {field: [reason]}; validated_data is
    {"pipeline": Pipeline values, "training": TrainingSettings values}.
    """

    strategy = serializers.ChoiceField(choices=STRATEGY_NAMES)
    strategy_params = serializers.DictField(
        help_text="parameters of the strategy (ml.selection)"
    )
    cold_start_strategy = serializers.ChoiceField(choices=COLD_START_STRATEGIES)
    split = SplitSerializer()
    consensus_share = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="share of items labelled by two annotators before review "
        "(0 to 1, default 0)",
    )
    check_share = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="share of label claims that are hidden checks: an approved item "
        "served again and scored against its ground truth (0 to 1, default 0)",
    )
    model_config = serializers.DictField(help_text="ml.config model configuration")
    comparison_config = serializers.DictField(
        help_text='{"metric", "min_delta"} (ml.config)'
    )
    triggers = TriggersSerializer()
    thresholds = ThresholdsSerializer(
        required=False,
        help_text="error-analysis thresholds, each with its default (ml.thresholds)",
    )
    best_model = serializers.IntegerField(read_only=True, allow_null=True)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["expected a JSON object"]}
            )
        errors = {
            key: "unknown field"
            for key in sorted(set(data) - set(self.fields) - READ_ONLY)
        }
        pipeline, pipeline_errors = selection_settings_clean(
            current=self.instance.pipeline, data=data
        )
        training, training_errors = training_settings_clean(data=data)
        errors.update(pipeline_errors)
        errors.update(training_errors)
        out = {"pipeline": pipeline, "training": training}
        _thresholds_clean(self.instance, data, errors, out)
        if errors:
            raise serializers.ValidationError({k: [v] for k, v in errors.items()})
        return out


class ModelVersionSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "status",
            "progress",
            "parent",
            "metrics",
            "is_best",
            "is_base",
            "task",
            "architecture",
            "epoch",
            "epochs",
            "losses",
            "eta_seconds",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ModelVersionDetailSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = ModelVersionSerializer.Meta.fields + [
            "error",
            "config",
            "class_names",
            "train_item_ids",
            "val_item_ids",
            "started_at",
            # One object per finished epoch: {"epoch": n, <loss or metric>: value}.
            "history",
        ]
        read_only_fields = fields


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    test_items = serializers.ListField(
        source="test_item_ids", child=serializers.IntegerField()
    )
    metrics = serializers.DictField()
    # True once a test item it scored was reopened for correction.
    stale = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ComparisonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    candidate = serializers.IntegerField(source="candidate_id")
    incumbent = serializers.IntegerField(source="incumbent_id", allow_null=True)
    metric = serializers.CharField()
    candidate_value = serializers.FloatField(allow_null=True)
    incumbent_value = serializers.FloatField(allow_null=True)
    winner = serializers.CharField()
    promoted = serializers.BooleanField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class RegisterBaseSerializer(serializers.Serializer):
    architecture = serializers.CharField(required=False, max_length=100)
    weights = serializers.FileField(required=False)
    name = serializers.CharField(required=False, max_length=100, allow_blank=True)
