"""API: model versions, training, promotion, evaluations and comparisons."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import SafeJSONParser, project_for
from alweb.roles import Perm
from alweb.schema import CONFLICT
from models_mgmt import selectors
from models_mgmt.serializers import (
    ComparisonSerializer,
    EvaluationSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    RegisterBaseSerializer,
)
from models_mgmt.services.training import training_start
from models_mgmt.services.versions import (
    model_version_promote,
    model_version_register_base,
)


class ModelListApi(ListAPIView):
    """GET: model versions, newest first. POST: register a base model."""

    serializer_class = ModelVersionSerializer
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(operation_id="models_list", summary="Model versions, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.model_version_list(project=project)

    @extend_schema(
        operation_id="models_register",
        summary="Register a base model: an architecture name (JSON) or .pt weights "
        "(multipart)",
        request={
            "application/json": RegisterBaseSerializer,
            "multipart/form-data": RegisterBaseSerializer,
        },
        responses={201: ModelVersionSerializer},
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
        operation_id="train",
        summary="Start training now",
        request=None,
        responses={
            202: inline_serializer(
                "TrainStarted", {"model_version": serializers.IntegerField()}
            ),
            409: CONFLICT,
        },
    )
    def post(self, request, project_id):
        """Start the lower flow now: 202 with the new version; 409 when no train
        items exist yet or a training run is already active."""
        project = project_for(request, project_id, Perm.TRAIN)
        version = training_start(project=project, actor=request.user, trigger="manual")
        return Response({"model_version": version.pk}, status=status.HTTP_202_ACCEPTED)


class ModelDetailApi(APIView):
    @extend_schema(
        operation_id="models_get",
        summary="One model version",
        responses={200: ModelVersionDetailSerializer},
    )
    def get(self, request, model_id):
        version = selectors.model_version_get_for_user(
            user=request.user, version_id=model_id
        )
        return Response(ModelVersionDetailSerializer(version).data)


class ModelPromoteApi(APIView):
    @extend_schema(
        operation_id="models_promote",
        summary="Make this version the best model",
        request=None,
        responses={200: ModelVersionSerializer},
    )
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

    @extend_schema(operation_id="evaluations_list", summary="Evaluations")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.evaluation_list(project=project)


class ComparisonListApi(ListAPIView):
    serializer_class = ComparisonSerializer

    @extend_schema(operation_id="comparisons_list", summary="Comparisons")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        return selectors.comparison_list(project=project)
