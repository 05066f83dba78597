"""The API schema as a product: typed error bodies on every operation where the
error can occur, and typed pages of lists (drf-spectacular)."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """401, 403, 404 and 413: what went wrong."""

    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    """409: the state changed under the caller (lease lost, stale version, already
    ended); extra keys say what the state is now."""

    detail = serializers.CharField()
    task_status = serializers.CharField(required=False)
    draft_version = serializers.IntegerField(required=False)
    run = serializers.IntegerField(required=False)
    kind = serializers.CharField(required=False)


# 400: {field: [reason, ...]} (settings.SPECTACULAR_SETTINGS["APPEND_COMPONENTS"]
# defines the ValidationError component).
_VALIDATION_REF = {"$ref": "#/components/schemas/ValidationError"}

BAD_REQUEST = OpenApiResponse(_VALIDATION_REF, description="bad input: which and why")
UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="no or bad credentials")
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="a member whose role does not allow this"
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="no such object, or a project the caller is not a member of",
)
CONFLICT = OpenApiResponse(ConflictSerializer, description="the state changed")
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="request body too large")


def page_of(serializer_class, name: str | None = None):
    """The schema of a page of `serializer_class` objects, as PageNumberPagination
    answers it: {count, next, previous, results}."""
    base = name or serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        f"Paginated{base}List",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses an operation can give unless it names its own:
    401 everywhere; 404 (and 403, but for items, whose visibility is by 404) for
    paths naming an object; 400 for bodies and query parameters."""

    def map_parsers(self):
        """Request bodies are JSON; an endpoint that takes files names its
        multipart content explicitly (extend_schema(request={...}))."""
        return ["application/json"]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {"401": UNAUTHENTICATED}
        if "{" in self.path:
            errors["404"] = NOT_FOUND
            if not self.path.startswith("/api/v1/items/"):
                errors["403"] = FORBIDDEN
        has_body = self.method in ("POST", "PUT", "PATCH") and (
            self.get_request_serializer() is not None
        )
        if has_body or self._has_query_parameters():
            errors["400"] = BAD_REQUEST
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return responses

    def _has_query_parameters(self) -> bool:
        return any(
            getattr(p, "location", None) == "query"
            for p in self.get_override_parameters()
        ) or bool(self._get_pagination_parameters())
