"""API: the error buckets of a model version's newest evaluation."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from models_mgmt import selectors
from models_mgmt.selectors_errors import error_summary
from models_mgmt.selectors_versions import evaluation_latest


class ErrorBucketSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="ml.errors kind: background, missed, …")
    cls = serializers.CharField(
        help_text="the class (per_class) or the slice, split:<s> or tag:<t>"
    )
    count = serializers.IntegerField(help_text="errors in the bucket")
    items = serializers.IntegerField(help_text="distinct items in the bucket")
    item_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="the first 100 items, by id"
    )


class ModelErrorsSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    evaluation = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["done", "none", "failed"],
        help_text="none: the newest evaluation has no error analysis (made "
        "before it existed, or still running)",
    )
    error = serializers.CharField(help_text="why the analysis failed, else empty")
    items = serializers.IntegerField(help_text="items the analysis scored")
    min_confidence = serializers.FloatField(allow_null=True)
    iou = serializers.FloatField(allow_null=True)
    background_iou = serializers.FloatField(allow_null=True)
    true_positive = serializers.DictField(child=serializers.IntegerField())
    shapes = serializers.DictField(child=serializers.IntegerField())
    per_class = ErrorBucketSerializer(many=True)
    per_slice = ErrorBucketSerializer(many=True)


def _payload(version, summary) -> dict:
    stats = summary.stats
    return {
        "model_version": version.pk,
        "evaluation": summary.evaluation.pk if summary.evaluation else None,
        "status": summary.status,
        "error": summary.error,
        "items": stats.get("items", 0),
        "min_confidence": stats.get("min_confidence"),
        "iou": stats.get("iou"),
        "background_iou": stats.get("background_iou"),
        "true_positive": stats.get("true_positive", {}),
        "shapes": stats.get("shapes", {}),
        "per_class": summary.buckets,
        "per_slice": summary.slice_buckets,
    }


class ModelErrorsApi(APIView):
    @extend_schema(
        operation_id="models_errors",
        summary="Error buckets of the version's newest evaluation",
        responses={200: ModelErrorsSerializer},
    )
    def get(self, request, model_id):
        """The version's errors on its newest evaluation's items per kind x
        class and per slice (split, tags), each bucket with its items."""
        version = selectors.model_version_get_for_user(
            user=request.user, version_id=model_id
        )
        evaluation = evaluation_latest(version=version)
        summary = error_summary(evaluation=evaluation, project=version.project)
        return Response(ModelErrorsSerializer(_payload(version, summary)).data)
