"""DRF plumbing shared by the API modules: parsers, errors, permission helper."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alweb.errors import limit_error
from alweb.exceptions import Conflict
from alweb.roles import Perm

# The largest id (BigAutoField) and integer the database stores: a larger
# integer input is refused with 400 before it reaches a query (OverflowError).
INT64_MAX = 2**63 - 1


class SafeJSONParser(JSONParser):
    """JSON parser that answers 400 (not 500) to absurdly nested bodies."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON nested too deeply") from None


def _validation_body(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    """Map domain errors to API codes: 400 (field and reason), 403, 404, 409, and
    Django's request-limit errors to 413 / 400 (never its HTML 400 page)."""
    limited = limit_error(exc)
    if limited is not None:
        return Response(limited[1], status=limited[0])
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response(
            {"detail": exc.message, **exc.extra}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    return drf_exception_handler(exc, context)


def json_body(request) -> dict:
    """The request's JSON object; ValidationError (400) for any other JSON value."""
    if not isinstance(request.data, dict):
        raise DjangoValidationError({"non_field_errors": "expected a JSON object"})
    return request.data


def project_for(request, project_id, perm: Perm = Perm.VIEW_PROJECT):
    """The project named in the URL if the caller may do `perm` on it (404 / 403).

    The app that owns projects answers (settings.ALWEB_PROJECT_FOR_USER, a dotted
    path): alweb wires the apps and imports none of them.
    """
    project_get_for_user = import_string(settings.ALWEB_PROJECT_FOR_USER)
    return project_get_for_user(user=request.user, project_id=project_id, perm=perm)
