"""REST API of models_mgmt: model versions, training, promotion, evaluations."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import SafeJSONParser, project_for
from alweb.roles import Perm
from models_mgmt import selectors
from models_mgmt.models import ModelVersion
from models_mgmt.services.training import training_start
from models_mgmt.services.versions import (
    model_version_promote,
    model_version_register_base,
)


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
        ]
        read_only_fields = fields


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    test_items = serializers.ListField(
        source="test_item_ids", child=serializers.IntegerField()
    )
    metrics = serializers.JSONField()
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


class ModelListApi(ListAPIView):
    """GET: model versions, newest first. POST: register a base model."""

    serializer_class = ModelVersionSerializer
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.model_version_list(project=project)

    @extend_schema(
        request=RegisterBaseSerializer, responses={201: ModelVersionSerializer}
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.TRAIN)
        data = RegisterBaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = model_version_register_base(
            project=project,
            actor=request.user,
            architecture=data.validated_data.get("architecture"),
            weights=data.validated_data.get("weights"),
            name=data.validated_data.get("name", ""),
        )
        return Response(
            ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED
        )


class ProjectTrainApi(APIView):
    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "TrainStarted", {"model_version": serializers.IntegerField()}
            )
        },
    )
    def post(self, request, project_id):
        """Start the lower flow now: 202 with the new version; 409 when no train
        items exist yet or a training run is already active."""
        project = project_for(request, project_id, Perm.TRAIN)
        version = training_start(project=project, actor=request.user, trigger="manual")
        return Response({"model_version": version.pk}, status=status.HTTP_202_ACCEPTED)


class ModelDetailApi(APIView):
    @extend_schema(responses=ModelVersionDetailSerializer)
    def get(self, request, model_id):
        version = selectors.model_version_get_for_user(
            user=request.user, version_id=model_id
        )
        return Response(ModelVersionDetailSerializer(version).data)


class ModelPromoteApi(APIView):
    @extend_schema(request=None, responses=ModelVersionSerializer)
    def post(self, request, model_id):
        """Make this version the best model (manual promote or roll back)."""
        version = selectors.model_version_get_for_user(
            user=request.user, version_id=model_id, perm=Perm.PROMOTE
        )
        model_version_promote(version=version, actor=request.user)
        version.refresh_from_db()
        return Response(ModelVersionSerializer(version).data)


class EvaluationListApi(ListAPIView):
    serializer_class = EvaluationSerializer

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.evaluation_list(project=project)


class ComparisonListApi(ListAPIView):
    serializer_class = ComparisonSerializer

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.comparison_list(project=project)
