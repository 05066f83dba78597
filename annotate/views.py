"""HTML pages of a project: list, overview, images (members: views_members;
events: views_events; the settings page spans both apps:
models_mgmt.views_settings)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alweb.auth import may_create_projects
from alweb.pages import project_context
from annotate import selectors, selectors_mining
from annotate.forms import ProjectCreateForm
from annotate.responses import item_image_response
from annotate.services import projects as project_services
from runs.selectors import run_list_active

CLAIMS_SHOWN = 50  # the active claims listed on the overview (all: the tasks API)


@require_http_methods(["GET", "POST"])
def project_list(request):
    may_create = may_create_projects(request.user)
    if request.method == "POST" and not may_create:
        raise PermissionDenied("this site lets only staff accounts create projects")
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_services.project_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                labels=form.cleaned_data["labels"],
                kinds=form.cleaned_data["kinds"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("annotate:project-detail", project_id=project.pk)
    projects = list(selectors.project_list_for_user(user=request.user))
    roles = selectors.project_roles_for_user(user=request.user, projects=projects)
    rows = [(p, roles.get(p.pk)) for p in projects]
    return render(
        request,
        "annotate/project_list.html",
        {"rows": rows, "form": form, "may_create": may_create},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def project_detail(request, project_id):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    context = project_context(request, project, "overview")
    context["status_counts"] = selectors.project_status_counts(project=project)
    context["split_counts"] = selectors.project_split_counts(project=project)
    if context["can"].get("view_dashboard"):
        context["events"] = selectors.event_list(project=project)
        context["active_jobs"] = list(run_list_active(project=project))
        pipeline = selectors.pipeline_get(project=project)
        context["drift"] = selectors_mining.drift_weeks(
            project=project, pipeline=pipeline
        )
        context["ood_threshold"] = pipeline.ood_threshold
        context["drift_warn"] = pipeline.drift_warn_share
    if context["can"].get("assign_tasks"):
        claims = selectors.task_list_active(project=project)
        shown = list(claims[:CLAIMS_SHOWN])
        # Counted only when the page is full: fewer shown are all of them.
        count = claims.count() if len(shown) == CLAIMS_SHOWN else len(shown)
        context["claims"], context["claims_count"] = shown, count
    return render(request, "annotate/project_detail.html", context)


@require_GET
def item_image(request, item_id, variant="image"):
    """Image bytes behind a membership check; fixed image type, nosniff."""
    item = selectors.item_get_for_user(user=request.user, item_id=item_id, image=True)
    return item_image_response(item, thumbnail=variant == "thumbnail")
