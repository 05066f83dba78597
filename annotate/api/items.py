"""API: items — upload (images and zip archives), list, detail, image bytes."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import SafeJSONParser, project_for
from alweb.roles import Perm
from alweb.schema import TOO_LARGE, page_of
from annotate import selectors, selectors_items
from annotate.api.outputs import (
    ItemDetailSerializer,
    ItemSerializer,
    UploadReportSerializer,
)
from annotate.models import ItemStatus, Split
from annotate.responses import item_image_response
from annotate.services.uploads import uploads_ingest

BIN = OpenApiTypes.BINARY


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "upload too large"
    default_code = "too_large"


def upload_files(request) -> list:
    """The `files` of a multipart request, with the request-wide limits as API
    errors: 413 over ALWEB_MAX_UPLOAD_BYTES (checked from Content-Length before
    reading), 400 over DATA_UPLOAD_MAX_NUMBER_FILES or without files."""
    limit = settings.ALWEB_MAX_UPLOAD_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge(f"upload too large ({length} bytes > {limit})")
    try:
        files = request.FILES.getlist("files")
    except TooManyFilesSent:
        most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        raise ValidationError({"files": f"at most {most} files per request"}) from None
    except RequestDataTooBig as exc:
        raise PayloadTooLarge(str(exc)) from None
    if not files:
        raise ValidationError({"files": "send one or more files as multipart `files`"})
    if sum(f.size or 0 for f in files) > limit:
        raise PayloadTooLarge(f"upload too large (> {limit} bytes)")
    return files


class ItemListApi(APIView):
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]

    @extend_schema(
        operation_id="items_list",
        summary="Items of the project (annotators and reviewers: those they hold "
        "or held tasks on)",
        parameters=[
            OpenApiParameter("status", enum=list(ItemStatus.values)),
            OpenApiParameter("split", enum=[*Split.values, "none"]),
            OpenApiParameter("ordering", enum=list(selectors_items.ITEM_ORDERINGS)),
            OpenApiParameter("tag", str, description="items carrying this tag"),
            OpenApiParameter("page", int),
        ],
        responses={200: page_of(ItemSerializer)},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id)
        params = request.query_params
        ordering = params.get("ordering") or "-priority"
        try:
            items = selectors_items.item_list(
                project=project,
                status=params.get("status") or None,
                split=params.get("split") or None,
                ordering=ordering,
                **({"tag": params["tag"][:255]} if params.get("tag") else {}),
                held_by=None
                if request.user.has_perm(Perm.VIEW_DASHBOARD, project)
                else request.user,
            )
        except ValueError as exc:
            field = str(exc).split(" ", 1)[0]
            raise ValidationError({field: str(exc)}) from None
        paginator = PageNumberPagination()
        try:
            page = paginator.paginate_queryset(
                selectors_items.item_list_pages(items, ordering=ordering),
                request,
                view=self,
            )
        except (Http404, NotFound):
            raise ValidationError({"page": "no such page"}) from None
        return paginator.get_paginated_response(ItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="items_upload",
        summary="Upload images or zip archives (multipart `files`)",
        description=(
            "Each file is checked by content (JPEG, PNG, WebP, BMP); zip archives are "
            "checked before extraction (entries, declared size, ratio; nested "
            "archives, symlinks and encrypted members are refused). Good files "
            "become items; each refused file is listed in `skipped` with its reason "
            "(duplicates by checksum included). 413 over the request size limit, 400 "
            "over the file-count limit."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                    }
                },
                "required": ["files"],
            }
        },
        responses={201: UploadReportSerializer, 413: TOO_LARGE},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.UPLOAD_ITEMS)
        files = upload_files(request)
        report = uploads_ingest(project=project, files=files, actor=request.user)
        return Response(UploadReportSerializer(report).data, status=201)

    def handle_exception(self, exc):
        if isinstance(exc, ParseError) and "Multipart" in str(exc):
            exc = ValidationError({"files": str(exc)})
        return super().handle_exception(exc)


class ItemDetailApi(APIView):
    @extend_schema(
        operation_id="items_get",
        summary="One item with its annotations",
        responses={200: ItemDetailSerializer},
    )
    def get(self, request, item_id):
        item = selectors.item_get_for_user(user=request.user, item_id=item_id)
        return Response(ItemDetailSerializer(item).data)


class ItemImageApi(APIView):
    @extend_schema(
        operation_id="items_image",
        summary="The image bytes (fixed image type, nosniff)",
        responses={(200, "image/*"): OpenApiResponse(BIN, description="image")},
    )
    def get(self, request, item_id):
        item = selectors.item_get_for_user(
            user=request.user, item_id=item_id, image=True
        )
        return item_image_response(item)
