"""API: the pipeline resource (API.md "Projects and members"): annotate's selection
and split settings with models_mgmt's training settings, in one shape."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import project_for
from alweb.roles import Perm
from models_mgmt.selectors import pipeline_settings_get
from models_mgmt.serializers import PipelineSerializer
from models_mgmt.services.pipeline import pipeline_update


class PipelineApi(APIView):
    @extend_schema(
        operation_id="pipeline_get",
        summary="Pipeline settings; best_model is read-only",
        responses={200: PipelineSerializer},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_PIPELINE)
        return Response(PipelineSerializer(pipeline_settings_get(project=project)).data)

    @extend_schema(
        operation_id="pipeline_update",
        summary="Partial update of the pipeline settings",
        request=PipelineSerializer(partial=True),
        responses={200: PipelineSerializer},
    )
    def patch(self, request, project_id):
        project = project_for(request, project_id, Perm.EDIT_PIPELINE)
        settings = pipeline_update(
            project=project, actor=request.user, data=request.data
        )
        return Response(PipelineSerializer(settings).data)
