"""The account pages: a user's own API token, and the invite link where a new
account sets its first password."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from alweb import accounts, services
from alweb.forms import ApiTokenForm, InvitePasswordForm
from alweb.views import client_address

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _password_ok(request, password: str) -> bool | None:
    """Check the caller's password under the login lock (the same counters as
    the login page): True, False, or None while the lock refuses checks."""
    keys = services.login_throttle_keys(
        username=request.user.get_username(), address=client_address(request)
    )
    if not services.login_attempt_reserve(keys=keys):
        return None
    outcome = "aborted"
    try:
        ok = request.user.check_password(password)
        outcome = "succeeded" if ok else "failed"
        return ok
    finally:
        services.login_attempt_settle(keys=keys, outcome=outcome)


@require_http_methods(["GET", "POST"])
def api_token(request):
    """Whether the user has an API token; make one (the key shown once, the
    password asked again) or revoke it. A new key replaces the old one."""
    form = ApiTokenForm(request.POST or None)
    status, key = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid() and form.cleaned_data["action"] == "revoke":
            if accounts.api_token_revoke(user=request.user):
                messages.success(request, "API token revoked: it no longer works.")
            return redirect("account-token")
        if form.is_valid():
            ok = _password_ok(request, form.cleaned_data["password"])
            if ok:
                key, status = accounts.api_token_create(user=request.user), 200
                form = ApiTokenForm()
            else:
                form.add_error(
                    "password",
                    "too many failed attempts; try again later"
                    if ok is None
                    else "wrong password",
                )
    context = {
        "form": form,
        "token": accounts.api_token_get(user=request.user),
        "key": key,
    }
    response = render(request, "registration/api_token.html", context, status=status)
    add_never_cache_headers(response)
    return response


def _invalid(request):
    return render(request, "registration/invite.html", {"invalid": True}, status=400)


@require_http_methods(["GET", "POST"])
def invite_accept(request, token):
    """The invite link: the invited account sets its first password (checked by
    the password validators) and is logged in. A forged, expired or used link
    answers 400 with the reason."""
    user = accounts.invite_user(token=token)
    if user is None:
        return _invalid(request)
    form = InvitePasswordForm(user, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = accounts.invite_accept(
                    token=token, password=form.cleaned_data["new_password1"]
                )
            except ValidationError:
                return _invalid(request)
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome, {user.get_username()}.")
            return redirect(settings.LOGIN_REDIRECT_URL)
    context = {"form": form, "invited": user}
    response = render(request, "registration/invite.html", context, status=status)
    add_never_cache_headers(response)
    return response
