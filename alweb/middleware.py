"""Security headers, the login requirement for every page but the login page, and
the styled 405 page."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.template.loader import render_to_string

# Paths reachable without logging in.
# An invite link carries its own credential (a signed, single-use token).
PUBLIC_PREFIXES = (
    "/accounts/login/",
    "/accounts/invite/",
    "/static/",
    "/healthz",
    "/favicon.ico",
)
# API pages for people: the login page, not the API's 401, for anonymous users.
API_PAGES = ("/api/docs/",)


class SecurityHeadersMiddleware:
    """Adds a strict Content-Security-Policy (no inline scripts or styles)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response


class LoginRequiredMiddleware:
    """Anonymous users reach only the login page; the API answers 401 itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (
            request.user.is_authenticated
            or path.startswith(PUBLIC_PREFIXES)
            or (path.startswith("/api/") and not path.startswith(API_PAGES))
        ):
            return self.get_response(request)
        if request.headers.get("HX-Request"):
            return JsonResponse({"detail": "login required"}, status=401)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


class MethodNotAllowedPageMiddleware:
    """Django answers a wrong method (require_http_methods) with an empty 405:
    pages get the styled 405 page instead, with the same Allow header. API
    answers (JSON from DRF) are left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.content
            and not request.path.startswith("/api/")
        ):
            response.content = render_to_string("405.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
