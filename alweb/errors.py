"""Request-limit errors as answers: JSON 413/400 for the API, a plain page elsewhere.

Django raises RequestDataTooBig, TooManyFieldsSent and TooManyFilesSent wherever
the request body is first parsed (a DRF view, the CSRF middleware, a form view)
and answers them with handler400's HTML page. DRF views map them through
`alweb.api.exception_handler`; everything else reaches `bad_request` (handler400).
"""

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import ERROR_PAGE_TEMPLATE


def limit_error(exc) -> tuple[int, dict] | None:
    """(status, API body) for a request-limit exception; None for anything else."""
    if isinstance(exc, RequestDataTooBig):
        most = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, {
            "detail": f"request body too large: at most {most} bytes "
            "outside uploaded files"
        }
    if isinstance(exc, TooManyFilesSent):
        most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, {"files": [f"at most {most} files per request"]}
    if isinstance(exc, TooManyFieldsSent):
        most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, {"non_field_errors": [f"at most {most} fields per request"]}
    return None


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


@requires_csrf_token
def bad_request(request, exception=None):
    """handler400: the reason as JSON under /api/, a plain page (no traceback)
    elsewhere; request-limit errors keep their own status (413 for a body too
    large)."""
    status, body = limit_error(exception) or (400, {"detail": "bad request"})
    if _is_api(request):
        return JsonResponse(body, status=status)
    title = "Request too large (413)" if status == 413 else "Bad Request (400)"
    details = next(iter(body.values()))
    details = details[0] if isinstance(details, list) else details
    html = ERROR_PAGE_TEMPLATE % {"title": title, "details": escape(details)}
    return HttpResponse(html, status=status, content_type="text/html")
