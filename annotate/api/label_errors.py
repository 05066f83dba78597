"""API: the re-review queue of possible label errors, and a reviewer's answer
to a flag (confirm the label, or reopen the item for a fix)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import json_body, project_for
from alweb.roles import Perm
from alweb.schema import page_of
from annotate import selectors_flags
from annotate.api.outputs_mining import (
    LabelErrorFlagSerializer,
    LabelErrorSimilarSerializer,
)
from annotate.api.serializers import (
    LabelErrorFixInputSerializer,
    LabelErrorSimilarInputSerializer,
)
from annotate.services.label_errors import (
    label_error_confirm,
    label_error_fix,
    label_error_similar_flag,
)


def _flag_for(request, project_id, flag_id, input_serializer=None):
    """A reviewer's flag `flag_id` of the project (project_for's 403/404 first,
    then the selector's 404), with the validated body of `input_serializer`
    when given (its 400 comes before the flag is looked up); (flag, data)."""
    project = project_for(request, project_id, Perm.REVIEW)
    data = None
    if input_serializer is not None:
        body = input_serializer(data=json_body(request))
        body.is_valid(raise_exception=True)
        data = body.validated_data
    flag = selectors_flags.label_error_flag_get(project=project, flag_id=flag_id)
    return flag, data


class LabelErrorListApi(APIView):
    @extend_schema(
        operation_id="label_errors_list",
        summary="Open possible-label-error flags, highest score first",
        description=(
            "After each promotion the best model predicts the validation and "
            "test items; where it disagrees with an approved label the item "
            "is flagged with every candidate (kind, score, reason, the approved "
            "shape's and the prediction's boxes) and the model version."
        ),
        responses={200: page_of(LabelErrorFlagSerializer)},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.REVIEW)
        flags = selectors_flags.label_error_flags_open(project=project)
        paginator = PageNumberPagination()
        try:
            page = paginator.paginate_queryset(flags, request, view=self)
        except (Http404, NotFound):
            raise ValidationError({"page": "no such page"}) from None
        return paginator.get_paginated_response(
            LabelErrorFlagSerializer(page, many=True).data
        )


class LabelErrorConfirmApi(APIView):
    @extend_schema(
        operation_id="label_error_confirm",
        summary="Confirm the label: clear the flag for this model version",
        description=(
            "The flag becomes `confirmed` and stays: the same model version "
            "never flags the item again. 400 when the flag was already answered."
        ),
        request=None,
        responses={200: LabelErrorFlagSerializer},
    )
    def post(self, request, project_id, flag_id):
        flag, _ = _flag_for(request, project_id, flag_id)
        flag = label_error_confirm(flag=flag, actor=request.user)
        return Response(LabelErrorFlagSerializer(flag).data)


class LabelErrorFixApi(APIView):
    @extend_schema(
        operation_id="label_error_fix",
        summary="Reopen the flagged item for correction",
        description=(
            "The item is reopened (as POST of the item page's reopen): its "
            "approved shapes kept in history, its split held, evaluations "
            "that used it marked stale; the flag becomes `fixed`. 400 when the "
            "flag was already answered or the item is no longer done."
        ),
        request=LabelErrorFixInputSerializer,
        responses={200: LabelErrorFlagSerializer},
    )
    def post(self, request, project_id, flag_id):
        flag, data = _flag_for(
            request, project_id, flag_id, LabelErrorFixInputSerializer
        )
        label_error_fix(flag=flag, actor=request.user, comment=data["comment"])
        flag.refresh_from_db()
        return Response(LabelErrorFlagSerializer(flag).data)


class LabelErrorSimilarApi(APIView):
    @extend_schema(
        operation_id="label_error_similar",
        summary="Find similar mistakes: flag the nearest labelled items",
        description=(
            "From a `fixed` flag (a label error a reviewer confirmed), the `k` "
            "ground-truth items nearest to its item by stored embedding are "
            "flagged for re-review (kind `similar`, the reason naming the "
            "item); items with an open flag, or one of the same model version "
            "already answered, are skipped. 400 when the flag is not fixed; "
            "409 when its item has no embedding."
        ),
        request=LabelErrorSimilarInputSerializer,
        responses={200: LabelErrorSimilarSerializer},
    )
    def post(self, request, project_id, flag_id):
        flag, data = _flag_for(
            request, project_id, flag_id, LabelErrorSimilarInputSerializer
        )
        done = label_error_similar_flag(flag=flag, actor=request.user, k=data["k"])
        return Response(LabelErrorSimilarSerializer(done).data)
