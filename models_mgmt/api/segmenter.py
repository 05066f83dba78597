"""API: a project's segmentation weights and click-to-segment on an item."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import SafeJSONParser, json_body, project_for
from alweb.roles import Perm
from alweb.schema import BAD_REQUEST, CONFLICT
from annotate.selectors import item_get_for_user
from models_mgmt import selectors
from models_mgmt.services.segmenter import (
    segment_item_point,
    segmenter_delete,
    segmenter_upload,
)


class SegmenterSerializer(serializers.Serializer):
    present = serializers.BooleanField()
    file_name = serializers.CharField(allow_null=True)
    size_bytes = serializers.IntegerField(allow_null=True)
    uploaded_at = serializers.DateTimeField(allow_null=True)


class SegmenterUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="SAM / MobileSAM / SAM 2 weights; the name ends with e.g. "
        "mobile_sam.pt"
    )


class SegmentPointSerializer(serializers.Serializer):
    x = serializers.FloatField(help_text="pixels of the original image")
    y = serializers.FloatField(help_text="pixels of the original image")
    label = serializers.CharField(required=False, allow_blank=True)


class PolygonSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField())
    )


def segmenter_data(segmenter) -> dict:
    if segmenter is None:
        return {
            "present": False,
            "file_name": None,
            "size_bytes": None,
            "uploaded_at": None,
        }
    return SegmenterSerializer(
        {
            "present": True,
            "file_name": segmenter.file_name,
            "size_bytes": segmenter.size_bytes,
            "uploaded_at": segmenter.uploaded_at,
        }
    ).data


class SegmenterApi(APIView):
    """The project's segmentation weights for click-to-segment."""

    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="segmenter_get",
        summary="Whether the project has segmentation weights",
        responses={200: SegmenterSerializer},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_DASHBOARD)
        return Response(segmenter_data(selectors.segmenter_get(project=project)))

    @extend_schema(
        operation_id="segmenter_upload",
        summary="Upload the project's segmentation weights (replaces any)",
        request={"multipart/form-data": SegmenterUploadSerializer},
        responses={201: SegmenterSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.TRAIN)
        data = SegmenterUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        segmenter = segmenter_upload(
            project=project, actor=request.user, upload=data.validated_data["file"]
        )
        return Response(segmenter_data(segmenter), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="segmenter_delete",
        summary="Remove the project's segmentation weights",
        responses={204: None},
    )
    def delete(self, request, project_id):
        project = project_for(request, project_id, Perm.TRAIN)
        segmenter_delete(project=project, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemSegmentApi(APIView):
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="items_segment",
        summary="Click-to-segment: the polygon of the object at a point",
        request={"application/json": SegmentPointSerializer},
        responses={
            200: inline_serializer("SegmentResult", {"shape": PolygonSerializer()}),
            400: BAD_REQUEST,
            409: CONFLICT,
        },
    )
    def post(self, request, item_id):
        """One point prompt on the item's image (inline, one predict): 400 for a
        point outside the image or no object there, 409 without weights."""
        item = item_get_for_user(user=request.user, item_id=item_id)
        if not (
            request.user.has_perm(Perm.LABEL, item.project)
            or request.user.has_perm(Perm.REVIEW, item.project)
        ):
            if not request.user.has_perm(Perm.VIEW_PROJECT, item.project):
                raise Http404("no such item")
            raise PermissionDenied("you may not label or review in this project")
        body = json_body(request)
        data = SegmentPointSerializer(data=body)
        data.is_valid(raise_exception=True)
        shape = segment_item_point(
            item=item,
            x=body["x"],
            y=body["y"],
            label=data.validated_data.get("label"),
        )
        return Response(
            {
                "shape": {
                    "kind": "polygon",
                    "label": shape["label"],
                    "points": shape["points"],
                }
            }
        )
