"""HTML form of a project's segmentation weights (click-to-segment on the
label page): upload or replace, and delete, from the Models page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_POST

from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from models_mgmt.services.segmenter import segmenter_delete, segmenter_upload


@require_POST
def segmenter_form(request, project_id):
    """`action=delete` removes the weights; otherwise `file` is uploaded (TRAIN:
    loading a .pt runs code). Errors come back as a message on the page."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.TRAIN
    )
    if request.POST.get("action") == "delete":
        if segmenter_delete(project=project, actor=request.user):
            messages.success(request, "Segmentation weights removed.")
        return redirect("models_mgmt:models", project_id=project.pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Segmentation weights: choose a file to upload.")
        return redirect("models_mgmt:models", project_id=project.pk)
    try:
        segmenter = segmenter_upload(project=project, actor=request.user, upload=upload)
    except ValidationError as exc:
        messages.error(request, "Segmentation weights: " + "; ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Segmentation weights {segmenter.file_name} "
            f"({filesizeformat(segmenter.size_bytes)}) uploaded: the Segment tool "
            "on the label page uses them.",
        )
    return redirect("models_mgmt:models", project_id=project.pk)
