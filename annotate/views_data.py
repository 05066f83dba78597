"""The data page: export (COCO, YOLO, VOC; large projects in the background with
a progress bar, static/annotate/data.js) and import of any supported format with
its per-file report."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.services.exports import EXPORT_FORMATS
from annotate.services.imports import IMPORT_AS, IMPORT_CATEGORIES, IMPORT_SPLITS
from annotate.services.imports_zip import FILE_FORMATS, file_import
from runs.models import JobKind
from runs.selectors import run_list_recent

FORMAT_NAMES = {
    "coco": "COCO JSON",
    "yolo": "YOLO (ultralytics zip)",
    "voc": "Pascal VOC (zip)",
    "label_studio": "Label Studio JSON",
}


def _choice(request, name: str, choices, default: str) -> str:
    value = request.POST.get(name, default)
    return value if value in choices else ""


@require_http_methods(["GET", "POST"])
def project_data(request, project_id):
    """GET: the export form, past exports, the import form. POST: import one file;
    the page answers 400 with every problem of the file, and nothing changes."""
    perm = Perm.UPLOAD_ITEMS if request.method == "POST" else Perm.EXPORT
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=perm
    )
    context = project_context(request, project, "data")
    form = {
        "format": _choice(request, "format", FILE_FORMATS, "coco"),
        "as": _choice(request, "as", IMPORT_AS, "ground_truth"),
        "split": _choice(request, "split", IMPORT_SPLITS, "keep"),
        "categories": _choice(request, "categories", IMPORT_CATEGORIES, "refuse"),
    }
    context.update(
        export_formats=[(f, FORMAT_NAMES[f]) for f in EXPORT_FORMATS],
        import_formats=[(f, FORMAT_NAMES[f]) for f in FILE_FORMATS],
        form=form,
        errors=[],
        result=None,
    )
    status = 200
    if request.method == "POST":
        status = _import(request, project, form, context)
    context["exports"] = run_list_recent(project=project, kinds=[JobKind.EXPORT])
    return render(request, "annotate/data.html", context, status=status)


def _import(request, project, form, context) -> int:
    bad = [name for name, value in form.items() if not value]
    if bad:
        context["errors"] = [f"{name}: not one of the choices" for name in bad]
        return 400
    try:
        upload = request.FILES.get("file")
    except RequestDataTooBig:
        upload = None
    if upload is None:
        context["errors"] = ["file: choose a file to import"]
        return 400
    limit = int(getattr(settings, "ALWEB_MAX_IMPORT_BYTES", 100 * 1024 * 1024))
    if upload.size > limit:
        context["errors"] = [f"file: too large ({upload.size} bytes > {limit})"]
        return 413
    if form["categories"] == "add" and not request.user.has_perm(
        Perm.EDIT_PIPELINE, project
    ):
        context["errors"] = ["categories: adding labels needs the owner or developer"]
        return 403
    try:
        context["result"] = file_import(
            project=project,
            fmt=form["format"],
            handle=upload,
            as_=form["as"],
            actor=request.user,
            split=form["split"],
            categories=form["categories"],
        )
    except ValidationError as exc:
        context["errors"] = [
            f"{field}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        return 400
    context["file_name"] = upload.name
    return 200
