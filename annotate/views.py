"""HTML pages of a project: list, overview, items, members, images (the settings
page spans both apps: models_mgmt.views_settings)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.forms import MemberForm, MemberRemoveForm, ProjectCreateForm
from annotate.responses import item_image_response
from annotate.services import projects as project_services
from runs.selectors import run_list_active


@require_http_methods(["GET", "POST"])
def project_list(request):
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
        {"rows": rows, "form": form},
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
    if context["can"].get("assign_tasks"):
        claims = selectors.task_list_active(project=project)
        context["claims"], context["claims_count"] = claims[:50], claims.count()
    return render(request, "annotate/project_detail.html", context)


def _member_user(project, user_id: int):
    """The user behind a membership of `project` (Http404 for anyone else)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not project.memberships.filter(user=user).exists():
        raise Http404("no such member")
    return user


@require_http_methods(["GET", "POST"])
def project_members(request, project_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_MEMBERS
    )
    context = project_context(request, project, "members")
    form = MemberForm()
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(Perm.MANAGE_MEMBERS, project):
            raise PermissionDenied("only owners manage members")
        try:
            if request.POST.get("action", "set") == "remove":
                remove = MemberRemoveForm(request.POST)
                if remove.is_valid():
                    user = _member_user(project, remove.cleaned_data["user_id"])
                    project_services.member_remove(
                        project=project, actor=request.user, user=user
                    )
                    messages.success(request, f"{user.username} removed.")
                    return redirect("annotate:project-members", project_id=project.pk)
                reasons = [f"{k}: {' '.join(v)}" for k, v in remove.errors.items()]
                messages.error(request, "Nothing was changed: " + "; ".join(reasons))
            else:
                form = MemberForm(request.POST)
                if form.is_valid():
                    project_services.member_set(
                        project=project,
                        actor=request.user,
                        user=form.cleaned_data["username"],
                        role=form.cleaned_data["role"],
                    )
                    messages.success(request, "Membership saved.")
                    return redirect("annotate:project-members", project_id=project.pk)
            status = 400
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            status = 400
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            status = 403
    context.update(members=selectors.member_list(project=project), form=form)
    return render(request, "annotate/project_members.html", context, status=status)


@require_GET
def item_image(request, item_id, variant="image"):
    """Image bytes behind a membership check; fixed image type, nosniff."""
    item = selectors.item_get_for_user(user=request.user, item_id=item_id)
    return item_image_response(item, thumbnail=variant == "thumbnail")
