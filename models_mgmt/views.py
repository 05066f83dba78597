"""HTML page of a project's models: versions, live training, comparisons, promote,
and the project's background runs with Cancel and Retry."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from alweb.exceptions import Conflict
from alweb.pages import project_context
from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from models_mgmt import selectors
from models_mgmt.forms import BaseWeightsForm
from models_mgmt.selectors_versions import version_rows
from models_mgmt.services.training import training_start
from models_mgmt.services.versions import (
    model_version_promote,
    model_version_register_base,
)
from runs import selectors as run_selectors
from runs import services as run_services


@require_http_methods(["GET"])
def models_page(request, project_id):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    context = project_context(request, project, "models")
    context.update(
        rows=version_rows(project=project),
        comparisons=list(selectors.comparison_list(project=project)[:20]),
        runs=run_selectors.run_list_recent(project=project),
        polling=run_selectors.runs_active(project=project),
        best=selectors.best_model(project=project),
        readiness=selectors.training_readiness(project=project),
        weights_form=BaseWeightsForm(),
        segmenter=selectors.segmenter_get(project=project),
    )
    if request.htmx:
        return render(request, "models_mgmt/models.html#model-live", context)
    return render(request, "models_mgmt/models.html", context)


@require_POST
def train_now(request, project_id):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.TRAIN
    )
    try:
        version = training_start(project=project, actor=request.user)
        messages.success(request, f"Training of {version.name} queued.")
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("models_mgmt:models", project_id=project.pk)


@require_POST
def promote(request, project_id, model_id):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.PROMOTE
    )
    version = selectors.model_version_get_for_user(
        user=request.user, version_id=model_id, perm=Perm.PROMOTE
    )
    if version.project_id != project.pk:
        raise PermissionDenied("model of another project")
    try:
        model_version_promote(version=version, actor=request.user)
        messages.success(request, f"{version.name} is now the best model.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return _back(request, project.pk)


def _back(request, project_id):
    """Where the form came from (same site only), else the Models page."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("models_mgmt:models", args=[project_id]))


@require_POST
def run_cancel(request, project_id, run_id):
    """Cancel a run (the permission of its kind: train, export or upload)."""
    job = run_selectors.run_get_for_user(
        user=request.user, run_id=run_id, act=True, project_id=project_id
    )
    try:
        run_services.run_cancel(job=job, actor=request.user)
        messages.success(request, f"{job.get_kind_display()} run {job.pk} cancelled.")
    except Conflict as exc:
        messages.error(request, exc.message)
    return _back(request, project_id)


@require_POST
def run_retry(request, project_id, run_id):
    """Queue a failed or cancelled run again as a new attempt."""
    job = run_selectors.run_get_for_user(
        user=request.user, run_id=run_id, act=True, project_id=project_id
    )
    try:
        new = run_services.run_retry(job=job, actor=request.user)
        messages.success(
            request, f"{job.get_kind_display()} run {job.pk} queued again as {new.pk}."
        )
    except Conflict as exc:
        messages.error(request, exc.message)
    return _back(request, project_id)


@require_POST
def register_base(request, project_id):
    """Upload pretrained weights as a base model (TRAIN: loading a .pt runs code,
    so only roles that control the pipeline may). The next training starts from
    it while the project has no best model."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.TRAIN
    )
    form = BaseWeightsForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, "; ".join(errors))
        return redirect("models_mgmt:models", project_id=project.pk)
    try:
        version = model_version_register_base(
            project=project,
            actor=request.user,
            weights=form.cleaned_data["weights"],
            name=form.cleaned_data["name"],
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{version.name} registered: training starts from it while the project "
            "has no best model.",
        )
    return redirect("models_mgmt:models", project_id=project.pk)
