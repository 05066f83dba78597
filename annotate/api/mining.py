"""API: similar-item mining: the unlabelled items nearest to an item or a
bucket by embedding, and sending the chosen ones to the front of the queue."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import json_body, project_for
from alweb.roles import Perm
from alweb.schema import CONFLICT
from annotate import selectors, selectors_mining
from annotate.api.outputs_mining import (
    SimilarPrioritisedSerializer,
    SimilarResultSerializer,
)
from annotate.api.serializers import (
    SimilarBucketInputSerializer,
    SimilarPrioritiseInputSerializer,
    SimilarQueryInputSerializer,
)
from annotate.services.mining import items_similar_prioritise

K_PARAM = OpenApiParameter("k", int, description="1-500, default 50")
MODE_PARAM = OpenApiParameter("mode", enum=["centroid", "union"])
SIMILAR_DOC = (
    "The k unlabelled items nearest by cosine distance of the stored "
    "embeddings (the first 100,000 unlabelled items by id are searched), "
    "nearest first. 409 when a query item has no embedding yet (scoring "
    "stores them)."
)


def _similar(project, ids, data) -> Response:
    results = selectors_mining.item_similar(
        project=project, item_ids=ids, k=data["k"], mode=data["mode"]
    )
    body = {"query": ids, "k": data["k"], "mode": data["mode"], "results": results}
    return Response(SimilarResultSerializer(body).data)


class ItemSimilarApi(APIView):
    @extend_schema(
        operation_id="items_similar",
        summary="Unlabelled items similar to one item",
        description=SIMILAR_DOC,
        parameters=[K_PARAM],
        responses={200: SimilarResultSerializer, 409: CONFLICT},
    )
    def get(self, request, project_id, item_id):
        project = project_for(request, project_id, Perm.VIEW_DASHBOARD)
        item = selectors.item_get_in_project(project=project, item_id=item_id)
        k = request.query_params.get("k")
        query = SimilarQueryInputSerializer(data={"k": k} if k else {})
        query.is_valid(raise_exception=True)
        return _similar(project, [item.pk], query.validated_data)


class ItemsSimilarApi(APIView):
    @extend_schema(
        operation_id="items_similar_bucket",
        summary="Unlabelled items similar to a bucket of items",
        description=SIMILAR_DOC,
        parameters=[
            OpenApiParameter(
                "items", int, many=True, description="the bucket's item ids"
            ),
            K_PARAM,
            MODE_PARAM,
        ],
        responses={200: SimilarResultSerializer, 409: CONFLICT},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_DASHBOARD)
        params = request.query_params
        data = {"items": params.getlist("items")}
        data.update({k: params[k] for k in ("k", "mode") if params.get(k)})
        query = SimilarBucketInputSerializer(data=data)
        query.is_valid(raise_exception=True)
        return _similar(project, query.validated_data["items"], query.validated_data)


class ItemsSimilarPrioritiseApi(APIView):
    @extend_schema(
        operation_id="items_similar_prioritise",
        summary="Send items found similar to the front of the labelling queue",
        description=(
            "Pins the unlabelled `items` to the front of the queue, nearest to "
            "`similar_to` first, with priority_reason `{pin, similar_to, distance, "
            "mode, by, at}` and an `item_similar_prioritised` event each. All or "
            "nothing: 400 for ids of other projects or items not unlabelled, 409 "
            "when an item has no embedding."
        ),
        request=SimilarPrioritiseInputSerializer,
        responses={200: SimilarPrioritisedSerializer, 409: CONFLICT},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.ASSIGN_TASKS)
        body = SimilarPrioritiseInputSerializer(data=json_body(request))
        body.is_valid(raise_exception=True)
        data = body.validated_data
        count = items_similar_prioritise(
            project=project,
            actor=request.user,
            similar_to=data["similar_to"],
            item_ids=data["items"],
            mode=data["mode"],
        )
        return Response({"prioritised": count})
