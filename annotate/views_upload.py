"""The upload page: drag and drop (static/annotate/upload.js) or a plain form POST."""

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.services.uploads import uploads_ingest


@require_http_methods(["GET", "POST"])
def project_upload(request, project_id):
    """Upload images or zip archives; the report lists created and skipped files."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.UPLOAD_ITEMS
    )
    context = project_context(request, project, "items")
    context["report"] = None
    context["error"] = ""
    status = 200
    if request.method == "POST":
        try:
            files = request.FILES.getlist("files")
        except (TooManyFilesSent, RequestDataTooBig):
            files, status = [], 400
            context["error"] = "Too many or too large files in one upload."
        if files:
            context["report"] = uploads_ingest(
                project=project, files=files, actor=request.user
            )
        elif status == 200:
            status = 400
            context["error"] = "Choose one or more files."
    return render(request, "annotate/upload.html", context, status=status)
