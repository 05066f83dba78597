"""REST API of background runs: list, detail, cancel and retry."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import project_for
from alweb.roles import Perm
from alweb.schema import CONFLICT
from runs import selectors, services
from runs.models import Job, JobKind, JobStatus


class RunSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)
    model_version = serializers.IntegerField(
        source="model_version_id", read_only=True, allow_null=True
    )
    retry_of = serializers.PrimaryKeyRelatedField(read_only=True)
    heartbeat_age_seconds = serializers.FloatField(read_only=True, allow_null=True)
    result = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "project",
            "kind",
            "status",
            "progress",
            "message",
            "error",
            "params",
            "result",
            "model_version",
            "attempt",
            "retry_of",
            "queue",
            "created_at",
            "started_at",
            "heartbeat_at",
            "heartbeat_age_seconds",
            "finished_at",
        ]
        read_only_fields = fields

    def get_result(self, job: Job) -> dict:
        # Storage paths stay private: exports are fetched through their download URL.
        return {k: v for k, v in (job.result or {}).items() if k not in ("file", "dir")}


class ProjectRunListApi(ListAPIView):
    """Runs of a project, newest first; `kind` and `status` filter."""

    serializer_class = RunSerializer

    @extend_schema(
        operation_id="runs_list",
        summary="Runs of a project, newest first",
        parameters=[
            OpenApiParameter("kind", enum=list(JobKind.values), required=False),
            OpenApiParameter("status", enum=list(JobStatus.values), required=False),
        ],
        responses={200: RunSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        project = project_for(
            self.request, self.kwargs["project_id"], Perm.VIEW_DASHBOARD
        )
        params = self.request.query_params
        try:
            return selectors.run_list(
                project=project,
                kind=params.get("kind") or None,
                status=params.get("status") or None,
            )
        except ValueError as exc:
            field = "kind" if str(exc).startswith("kind") else "status"
            raise ValidationError({field: str(exc)}) from None


class RunDetailApi(APIView):
    @extend_schema(
        operation_id="runs_get", summary="One run", responses={200: RunSerializer}
    )
    def get(self, request, run_id):
        job = selectors.run_get_for_user(user=request.user, run_id=run_id)
        return Response(RunSerializer(job).data)


class RunCancelApi(APIView):
    @extend_schema(
        operation_id="runs_cancel",
        summary="Cancel a queued or running run",
        request=None,
        responses={200: RunSerializer, 409: CONFLICT},
    )
    def post(self, request, run_id):
        """Cancel a queued or running run (the worker stops at its next heartbeat);
        409 when it has already ended. Training, scoring and evaluation runs need
        the train permission, exports export, imports upload."""
        job = selectors.run_get_for_user(user=request.user, run_id=run_id, act=True)
        job = services.run_cancel(job=job, actor=request.user)
        return Response(RunSerializer(job).data)


class RunRetryApi(APIView):
    @extend_schema(
        operation_id="runs_retry",
        summary="Queue a failed or cancelled run again",
        request=None,
        responses={202: RunSerializer, 409: CONFLICT},
    )
    def post(self, request, run_id):
        """Queue a failed or cancelled run again as a new run (202 with it): same
        parameters, `attempt` + 1, `retry_of` the old run. A training run re-trains
        the same frozen model version. 409 for a run that did not fail and was
        not cancelled, was already retried, or while another run of its kind is
        active for the project."""
        job = selectors.run_get_for_user(user=request.user, run_id=run_id, act=True)
        new = services.run_retry(job=job, actor=request.user)
        return Response(RunSerializer(new).data, status=status.HTTP_202_ACCEPTED)
