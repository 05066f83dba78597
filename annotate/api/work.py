"""API: the Work figures and tags on items (API.md "Work and tags")."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import json_body, project_for
from alweb.roles import Perm
from annotate.api.outputs import ItemsTaggedSerializer, WorkSerializer
from annotate.api.serializers import ItemsTagSerializer
from annotate.selectors_work import WINDOWS, work_summary
from annotate.services.tags import items_tag


class WorkApi(APIView):
    @extend_schema(
        operation_id="work_get",
        summary="Progress, queue, throughput per annotator and reviewer, time to "
        "ground truth over a window",
        parameters=[OpenApiParameter("window", str, enum=list(WINDOWS))],
        responses={200: WorkSerializer},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_DASHBOARD)
        try:
            summary = work_summary(
                project=project, window=request.query_params.get("window", "7d")
            )
        except ValueError as exc:
            raise ValidationError({"window": str(exc)}) from None
        return Response(WorkSerializer(summary).data)


class ItemsTagApi(APIView):
    @extend_schema(
        operation_id="items_tag",
        summary="Put a tag on items, or take it off (action=untag)",
        request=ItemsTagSerializer,
        responses={200: ItemsTaggedSerializer},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.ASSIGN_TASKS)
        serializer = ItemsTagSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changed = items_tag(
            project=project,
            actor=request.user,
            item_ids=data["items"],
            tag=data["tag"],
            remove=data["action"] == "untag",
        )
        return Response({"changed": changed})
