"""The members page: add an existing user, create an account (password shown once
or an invite link), change a role, renew an invite, remove a member."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from alweb import accounts
from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.forms import AccountCreateForm, MemberForm, MemberRemoveForm
from annotate.services import members as member_services
from annotate.services import projects as project_services

# Service error fields -> the fields of AccountCreateForm they belong under.
CREATE_FIELDS = {"username": "new_username", "role": "new_role", "access": "access"}


def _member_user(project, user_id: int):
    """The user behind a membership of `project` (Http404 for anyone else)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not project.memberships.filter(user=user).exists():
        raise Http404("no such member")
    return user


def invite_url(request, invite: accounts.Invite) -> str:
    """The absolute link of an invite (the host was checked by ALLOWED_HOSTS)."""
    return request.build_absolute_uri(reverse("invite-accept", args=[invite.token]))


def _add_errors(form, exc: ValidationError, fields: dict) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(fields.get(field) if field in fields else None, errors)


def _create(request, project, context) -> int:
    """action=create: a new account; its password or link goes in `context`."""
    form = AccountCreateForm(request.POST)
    context["create_form"] = form
    if not form.is_valid():
        return 400
    try:
        made = member_services.member_account_create(
            project=project,
            actor=request.user,
            username=form.cleaned_data["new_username"],
            role=form.cleaned_data["new_role"],
            access=form.cleaned_data["access"],
        )
    except ValidationError as exc:
        _add_errors(form, exc, CREATE_FIELDS)
        return 400
    context["new_account"] = {
        "username": made.membership.user.username,
        "password": made.password,
        "invite_url": invite_url(request, made.invite) if made.invite else None,
        "expires_at": made.invite.expires_at if made.invite else None,
    }
    context["create_form"] = AccountCreateForm()
    return 200


def _reinvite(request, project, context) -> int:
    """action=reinvite: a new link for a member who has not accepted theirs."""
    remove = MemberRemoveForm(request.POST)
    if not remove.is_valid():
        messages.error(request, "Nothing was changed: choose a member.")
        return 400
    user = _member_user(project, remove.cleaned_data["user_id"])
    invite = member_services.member_invite_renew(
        project=project, actor=request.user, user=user
    )
    context["new_account"] = {
        "username": user.username,
        "invite_url": invite_url(request, invite),
        "expires_at": invite.expires_at,
    }
    return 200


def _remove(request, project):
    remove = MemberRemoveForm(request.POST)
    if remove.is_valid():
        user = _member_user(project, remove.cleaned_data["user_id"])
        project_services.member_remove(project=project, actor=request.user, user=user)
        messages.success(request, f"{user.username} removed.")
        return redirect("annotate:project-members", project_id=project.pk)
    reasons = [f"{k}: {' '.join(v)}" for k, v in remove.errors.items()]
    messages.error(request, "Nothing was changed: " + "; ".join(reasons))
    return None


def _set(request, project, context):
    form = MemberForm(request.POST)
    context["form"] = form
    if form.is_valid():
        project_services.member_set(
            project=project,
            actor=request.user,
            user=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
        )
        messages.success(request, "Membership saved.")
        return redirect("annotate:project-members", project_id=project.pk)
    return None


@require_http_methods(["GET", "POST"])
def project_members(request, project_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_MEMBERS
    )
    context = project_context(request, project, "members")
    context.update(form=MemberForm(), create_form=AccountCreateForm())
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(Perm.MANAGE_MEMBERS, project):
            raise PermissionDenied("only owners manage members")
        action = request.POST.get("action", "set")
        try:
            if action == "create":
                status = _create(request, project, context)
            elif action == "reinvite":
                status = _reinvite(request, project, context)
            else:
                if action == "remove":
                    done = _remove(request, project)
                else:
                    done = _set(request, project, context)
                if done is not None:
                    return done
                status = 400
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            status = 400
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            status = 403
    members = list(selectors.member_list(project=project))
    context["members"] = [(m, accounts.invite_pending(user=m.user)) for m in members]
    response = render(request, "annotate/project_members.html", context, status=status)
    if "new_account" in context:  # a password or link shown once: never cached
        add_never_cache_headers(response)
    return response
