"""API: export (COCO, YOLO; background for large projects) and COCO import."""

import tempfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import SafeJSONParser, json_body, project_for
from alweb.roles import Perm
from alweb.schema import CONFLICT, TOO_LARGE
from annotate.api.items import PayloadTooLarge
from annotate.api.outputs import ExportJobSerializer, ImportResultSerializer
from annotate.api.serializers import ExportQuerySerializer, ImportInputSerializer
from annotate.selectors import item_count_ground_truth
from annotate.services import exports
from annotate.services.exports_voc import voc_write
from annotate.services.imports_zip import file_import
from runs.models import Job, JobKind, JobStatus
from runs.selectors import run_get

BIN = OpenApiTypes.BINARY


class ExportApi(APIView):
    @extend_schema(
        operation_id="export",
        summary="Export the ground truth as COCO JSON or a YOLO dataset zip",
        description=(
            "Up to ALWEB_EXPORT_SYNC_MAX_ITEMS (default 5,000) ground-truth items the "
            "export streams in the response (200): `format=coco` gives COCO JSON "
            "(split, status, width, height and `coco_url` in each image, and "
            "`labelling`, the throughput of each submit, in images labelled in "
            "alweb; "
            "`predictions=true` adds model predictions; `images=true` gives a zip of "
            "`annotations.json` and `images/`), `format=yolo` a zip in "
            "ultralytics layout (images/<split>/, labels/<split>/, data.yaml), "
            "`format=voc` a Pascal VOC zip. Larger "
            "projects export in the background: 202 with `{job, status, progress, "
            "status_url, download_url}`; poll `status_url` until `status` is "
            "`succeeded`, then GET `download_url`. 409 while another export of the "
            "project runs."
        ),
        parameters=[
            OpenApiParameter("format", enum=list(exports.EXPORT_FORMATS), required=True)
        ],
        responses={
            # Binary first: a client reads either file as bytes (COCO is JSON).
            (200, "application/zip"): OpenApiResponse(
                BIN, description="YOLO or VOC dataset, or COCO with its images"
            ),
            (200, "application/json"): OpenApiResponse(
                BIN, description="COCO JSON document"
            ),
            202: OpenApiResponse(ExportJobSerializer, description="background export"),
            409: CONFLICT,
        },
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.EXPORT)
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data.get("format") or "coco"
        options = {
            "predictions": query.validated_data["predictions"],
            "include_review": query.validated_data["include_review"],
            # Each image's coco_url: its image endpoint (needs the same login).
            "image_url": request.build_absolute_uri(
                reverse("api-item-image", args=[0])
            ).replace("/items/0/", "/items/{id}/"),
        }
        images = fmt == "coco" and query.validated_data["images"]
        if images:
            options = {**options, "images": True}
            del options["image_url"]  # file_name is relative to images/ in the zip
        if item_count_ground_truth(project=project) > exports.export_sync_limit():
            job = exports.export_start(
                project=project, actor=request.user, fmt=fmt, options=options
            )
            body = ExportJobSerializer(job, context={"request": request}).data
            return Response(body, status=202)
        if images:
            return _zip_response(
                project,
                "coco",
                lambda tmp: exports.coco_zip_write(
                    project=project,
                    fileobj=tmp,
                    document=exports.coco_images_document(
                        project=project,
                        predictions=options["predictions"],
                        include_review=options["include_review"],
                    ),
                    include_review=options["include_review"],
                ),
            )
        if fmt == "coco":
            response = StreamingHttpResponse(
                exports.coco_chunks(project=project, **options),
                content_type="application/json",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="project-{project.pk}-coco.json"'
            )
            return response
        write = exports.yolo_write if fmt == "yolo" else voc_write
        return _zip_response(
            project, fmt, lambda tmp: write(project=project, fileobj=tmp)
        )


def _zip_response(project, fmt: str, write) -> FileResponse:
    """A zip export written to a temporary file, then sent (closed with it)."""
    tmp = tempfile.TemporaryFile()
    try:
        write(tmp)
        tmp.seek(0)
    except BaseException:
        tmp.close()
        raise
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=f"project-{project.pk}-{fmt}.zip",
        content_type="application/zip",
    )


def _export_job(project, job_id) -> Job:
    return run_get(project=project, kind=JobKind.EXPORT, run_id=job_id)


class ExportJobApi(APIView):
    @extend_schema(
        operation_id="export_job_get",
        summary="Status of a background export",
        responses={200: ExportJobSerializer},
    )
    def get(self, request, project_id, job_id):
        project = project_for(request, project_id, Perm.EXPORT)
        job = _export_job(project, job_id)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(
        operation_id="export_download",
        summary="The file of a finished background export (404 until then)",
        responses={
            (200, "application/zip"): OpenApiResponse(BIN, description="YOLO"),
            (200, "application/json"): OpenApiResponse(BIN, description="COCO"),
        },
    )
    def get(self, request, project_id, job_id):
        project = project_for(request, project_id, Perm.EXPORT)
        job = _export_job(project, job_id)
        name = job.result.get("file") if job.status == JobStatus.SUCCEEDED else None
        if not name:
            raise Http404("export not ready")
        try:
            handle = default_storage.open(name, "rb")
        except (FileNotFoundError, ValueError):
            raise Http404("export file missing") from None
        fmt = job.params.get("format")
        return FileResponse(
            handle,
            as_attachment=True,
            filename=job.result.get("filename") or f"export.{fmt}",
            content_type=(
                "application/json"
                if fmt == "coco" and not job.params.get("images")
                else "application/zip"
            ),
        )


def max_import_bytes() -> int:
    return int(getattr(settings, "ALWEB_MAX_IMPORT_BYTES", 100 * 1024 * 1024))


class ImportApi(APIView):
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="import_coco",
        summary="Import COCO, YOLO, VOC or Label Studio annotations for existing items",
        description=(
            'JSON body `{"as": "ground_truth"|"predictions", "coco": {...}}` (or, '
            "for curl, multipart with a `file` holding the COCO JSON and an `as` "
            "field). All or "
            "nothing: any problem answers 400 with every error listed under `file` "
            "and changes nothing. ground_truth replaces the items' annotations and "
            "makes them ground truth; predictions replaces their model "
            "pre-annotations (source `model:0`, `score` as confidence). "
            "`format=yolo` or `voc` (multipart): `file` is a zip in ultralytics "
            "layout (data.yaml, labels/<split>/*.txt) or Pascal VOC layout "
            "(Annotations/*.xml, ImageSets/Main/<split>.txt). Images are matched "
            "by file name (relative path, then without leading folders, then base "
            "name); `split`, `categories` and `category_map` apply to every format; "
            "`format=label_studio`: its JSON export (tasks; rectangles and polygons "
            "in percent) as `label_studio` or `file`. The answer reports splits "
            "kept, items sent to review, labels added and regions converted."
        ),
        request={"application/json": ImportInputSerializer},
        responses={200: ImportResultSerializer, 413: TOO_LARGE},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.UPLOAD_ITEMS)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_import_bytes():
            raise PayloadTooLarge(
                f"import file too large ({length} bytes > {max_import_bytes()})"
            )
        upload = request.FILES.get("file")
        if upload is not None and upload.size > max_import_bytes():
            raise PayloadTooLarge("import file too large")
        serializer = ImportInputSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["categories"] == "add" and not request.user.has_perm(
            Perm.EDIT_PIPELINE, project
        ):
            raise PermissionDenied("adding labels needs the pipeline-editing role")
        options = {
            "as_": data["as"],
            "actor": request.user,
            "split": data["split"],
            "categories": data["categories"],
            "category_map": data["category_map"],
        }
        result = file_import(
            project=project,
            fmt=data["format"],
            handle=data["archive"],
            document=data["document"],
            **options,
        )
        return Response(ImportResultSerializer(result).data)
