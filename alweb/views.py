"""Login (with a lock after repeated failures), logout and the health check."""

import ipaddress

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from alweb import services


def client_address(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the address the reverse proxy saw
    (the last X-Forwarded-For entry, the one the proxy appended) when
    ALWEB_BEHIND_PROXY=1. Earlier entries are the client's to forge, so ignored."""
    if request is None:
        return None
    candidates = []
    if settings.LOGIN_ADDRESS_FROM_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.append(forwarded.rsplit(",", 1)[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


class LockingAuthenticationForm(AuthenticationForm):
    """At most LOGIN_MAX_FAILURES failed password checks per username, and
    LOGIN_MAX_FAILURES_PER_ADDRESS per client address, then a lock of exactly
    LOGIN_LOCK_SECONDS that refuses even the right password.

    Each check is reserved before the password is hashed, so parallel requests
    cannot exceed the limits. Unknown users and wrong passwords get the same
    message, and unknown usernames are locked the same way.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": "Too many failed attempts. Try again later.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # no password is checked
        keys = services.login_throttle_keys(
            username=username, address=client_address(self.request)
        )
        if not services.login_attempt_reserve(keys=keys):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        outcome = "aborted"
        try:
            cleaned = super().clean()
            outcome = "succeeded"
            return cleaned
        except forms.ValidationError:
            outcome = "failed"
            raise
        finally:
            services.login_attempt_settle(keys=keys, outcome=outcome)


class LoginView(auth_views.LoginView):
    form_class = LockingAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_GET
def healthz(request):
    """Liveness: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def admin_login(request):
    """The admin's login: anonymous users go to the app's login page (with its
    lock); a signed-in user the admin refused (not staff) gets 403, never a
    redirect back to the admin that would send them here again."""
    if request.user.is_authenticated:
        raise PermissionDenied("the administration is for staff accounts only")
    return redirect_to_login(request.GET.get("next", "/admin/"), settings.LOGIN_URL)
