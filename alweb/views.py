"""Login (with a lock after repeated failures), logout and the health check."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def _failure_key(username: str) -> str:
    return "login-failures:" + (username or "").strip().lower()[:150]


class LockingAuthenticationForm(AuthenticationForm):
    """Refuses a username after LOGIN_MAX_FAILURES failures for LOGIN_LOCK_SECONDS,
    even with the right password; the message never tells whether the user exists."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": "Too many failed attempts. Try again later.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        key = _failure_key(username)
        if cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES:
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_LOCK_SECONDS)
            raise


class LoginView(auth_views.LoginView):
    form_class = LockingAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        cache.delete(_failure_key(form.get_user().get_username()))
        return super().form_valid(form)


@require_GET
def healthz(request):
    """Liveness: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
