"""Task endpoints of the REST API: claim next, autosave, submit, review, release,
and the active claims of a project (for holders of ASSIGN_TASKS)."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import INT64_MAX, project_for
from alweb.exceptions import Conflict
from alweb.roles import Perm
from annotate import selectors
from annotate.models import Annotation, AnnotationSource, Item, Task, TaskKind
from annotate.services import labeling
from annotate.services import queue as queue_services
from annotate.services.annotations import annotation_as_dict

MAX_EXCLUDE = 200


# Output ---------------------------------------------------------------------


def item_as_dict(item: Item) -> dict:
    return {
        "id": item.pk,
        "width": item.width,
        "height": item.height,
        "status": item.status,
        "split": item.split,
        "priority": item.priority,
        "uncertainty": item.uncertainty,
        "scored_by": item.scored_by,
        "review_comment": item.review_comment,
        "image_url": reverse("api-item-image", kwargs={"item_id": item.pk}),
    }


def _draft_as_dicts(task: Task, current: list[Annotation]) -> list[dict]:
    """The autosaved draft in the API's shape; a draft shape that is an unchanged
    model pre-annotation keeps its model source and confidence."""
    by_id = {a.pk: a for a in current}
    out = []
    for shape in task.draft or []:
        data = {"id": shape.get("id"), "kind": shape["kind"], "label": shape["label"]}
        if shape["kind"] == "box":
            data["bbox"] = list(shape["bbox"])
        else:
            data["points"] = [list(p) for p in shape["points"]]
        previous = by_id.get(shape.get("id"))
        geometry = {k: data[k] for k in ("bbox", "points") if k in data}
        if (
            previous is not None
            and previous.source == AnnotationSource.MODEL
            and previous.label == data["label"]
            and previous.geometry == geometry
        ):
            data.update(source=previous.source_ref, confidence=previous.confidence)
            data["author"] = None
        else:
            data.update(source="human", confidence=None, author=None)
        out.append(data)
    return out


def task_as_dict(task: Task) -> dict:
    """A claimed task as the API and the pages show it: item, annotations, lease."""
    item = task.item
    current = list(Annotation.objects.filter(item=item).select_related("author"))
    annotations = (
        _draft_as_dicts(task, current)
        if task.draft is not None
        else [annotation_as_dict(a) for a in current]
    )
    return {
        "id": task.pk,
        "kind": task.kind,
        "item": item_as_dict(item),
        "annotations": annotations,
        "lease_expires_at": task.lease_expires_at,
        "version": task.draft_version,
        "comment": task.comment,
    }


# Serializers (input validation and the schema) --------------------------------


class ShapesField(serializers.ListField):
    """A list of shape objects; their geometry is validated by the service."""

    child = serializers.JSONField()


class TaskNextInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
        required=False,
        max_length=MAX_EXCLUDE,
        help_text="item ids not to offer (items the caller just skipped)",
    )


class ItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    status = serializers.CharField()
    split = serializers.CharField(allow_null=True)
    priority = serializers.FloatField()
    uncertainty = serializers.FloatField(allow_null=True)
    scored_by = serializers.IntegerField(allow_null=True)
    review_comment = serializers.CharField()
    image_url = serializers.CharField()


class TaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    item = ItemOutputSerializer()
    annotations = serializers.ListField(child=serializers.JSONField())
    lease_expires_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="draft version for PUT draft/")
    comment = serializers.CharField()


class DraftInputSerializer(serializers.Serializer):
    annotations = ShapesField()
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=INT64_MAX,
        help_text="the draft version the client last saw; 409 if older",
    )


class DraftOutputSerializer(serializers.Serializer):
    saved_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField()


class SubmitInputSerializer(serializers.Serializer):
    annotations = ShapesField()


class ApproveInputSerializer(serializers.Serializer):
    annotations = ShapesField(required=False, allow_null=True)


class RejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, trim_whitespace=True)


class TaskDoneOutputSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    status = serializers.CharField()
    item = ItemOutputSerializer()


class ReleaseOutputSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    status = serializers.CharField()


CONFLICT = OpenApiResponse(description="lease lost, stale version or state changed")
NOT_FOUND = OpenApiResponse(description="unknown task or not the caller's")


# Views --------------------------------------------------------------------------

_KIND_PERM = {TaskKind.LABEL: Perm.LABEL, TaskKind.REVIEW: Perm.REVIEW}


def _parse(serializer_class, request):
    data = request.data if isinstance(request.data, dict) else None
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _own_task(request, task_id) -> Task:
    """The caller's task, re-checking the role on every call (404 / 403)."""
    task = queue_services.task_get_for_user(user=request.user, task_id=task_id)
    project_for(request, task.project_id, _KIND_PERM[task.kind])
    return task


def _done(task: Task, item: Item, status_text: str) -> Response:
    return Response(
        {"task": task.pk, "status": status_text, "item": item_as_dict(item)}
    )


class TaskClaimNextApi(APIView):
    @extend_schema(
        operation_id="tasks_next",
        request=TaskNextInputSerializer,
        responses={
            200: TaskOutputSerializer,
            204: OpenApiResponse(description="the queue is empty"),
        },
        summary="Claim (or resume) the next label or review task",
    )
    def post(self, request, project_id):
        data = _parse(TaskNextInputSerializer, request)
        project = project_for(request, project_id, _KIND_PERM[data["kind"]])
        task = queue_services.queue_claim_next(
            project=project,
            user=request.user,
            kind=data["kind"],
            exclude_item_ids=data.get("exclude", ()),
        )
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(task_as_dict(task))


class TaskDraftSaveApi(APIView):
    @extend_schema(
        operation_id="tasks_draft_save",
        request=DraftInputSerializer,
        responses={200: DraftOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
        summary="Autosave work in progress and renew the lease",
    )
    def put(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(DraftInputSerializer, request)
        task = labeling.task_draft_save(
            task=task, shapes=data["annotations"], client_version=data.get("version")
        )
        return Response(
            {
                "saved_at": task.draft_saved_at,
                "version": task.draft_version,
                "lease_expires_at": task.lease_expires_at,
            }
        )


class TaskSubmitApi(APIView):
    @extend_schema(
        operation_id="tasks_submit",
        request=SubmitInputSerializer,
        responses={200: TaskDoneOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
        summary="Submit a label task; the item goes to review",
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(SubmitInputSerializer, request)
        item = labeling.task_submit(task=task, shapes=data["annotations"])
        return _done(task, item, "submitted")


class TaskApproveApi(APIView):
    @extend_schema(
        operation_id="tasks_approve",
        request=ApproveInputSerializer,
        responses={200: TaskDoneOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
        summary="Approve a review task, optionally with corrected annotations",
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(ApproveInputSerializer, request)
        item = labeling.review_approve(task=task, shapes=data.get("annotations"))
        return _done(task, item, "approved")


class TaskRejectApi(APIView):
    @extend_schema(
        operation_id="tasks_reject",
        request=RejectInputSerializer,
        responses={200: TaskDoneOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
        summary="Reject a review task with a comment; the item goes back to labelling",
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(RejectInputSerializer, request)
        item = labeling.review_reject(task=task, comment=data["comment"])
        return _done(task, item, "rejected")


class TaskReleaseApi(APIView):
    @extend_schema(
        operation_id="tasks_release",
        request=None,
        responses={200: ReleaseOutputSerializer, 404: NOT_FOUND, 409: CONFLICT},
        summary="Give the claim back; the item returns to its queue",
        description=(
            "The assignee releases their own claim; a holder of ASSIGN_TASKS in "
            "the task's project (owner, developer, annotation manager) releases "
            "anyone's. Everyone else gets 404."
        ),
    )
    def post(self, request, task_id):
        task = selectors.task_get_for_release(user=request.user, task_id=task_id)
        if task.assignee_id == request.user.pk:
            project_for(request, task.project_id, _KIND_PERM[task.kind])
            released = queue_services.task_release(task=task, actor=request.user)
        else:
            released = queue_services.task_release_by_manager(
                task=task, actor=request.user
            )
        if not released:
            task.refresh_from_db(fields=["status"])
            raise Conflict(
                f"this task is {task.status}, not active", task_status=task.status
            )
        return Response({"task": task.pk, "status": "released"})


def claim_as_dict(task: Task) -> dict:
    return {
        "id": task.pk,
        "kind": task.kind,
        "item": task.item_id,
        "assignee": task.assignee.username,
        "assignee_id": task.assignee_id,
        "lease_expires_at": task.lease_expires_at,
        "created_at": task.created_at,
    }


CLAIM_PAGE = inline_serializer(
    "TaskClaimPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": inline_serializer(
            "TaskClaim",
            {
                "id": serializers.IntegerField(),
                "kind": serializers.ChoiceField(choices=TaskKind.choices),
                "item": serializers.IntegerField(),
                "assignee": serializers.CharField(),
                "assignee_id": serializers.IntegerField(),
                "lease_expires_at": serializers.DateTimeField(),
                "created_at": serializers.DateTimeField(),
            },
            many=True,
        ),
    },
)


class TaskListApi(APIView):
    @extend_schema(
        operation_id="tasks_list",
        parameters=[OpenApiParameter("page", int)],
        responses={200: CLAIM_PAGE, 400: OpenApiResponse(description="no such page")},
        summary="Active claims of the project (ASSIGN_TASKS: owner, developer, "
        "annotation manager), soonest lease end first",
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.ASSIGN_TASKS)
        paginator = PageNumberPagination()
        try:
            page = paginator.paginate_queryset(
                selectors.task_list_active(project=project), request, view=self
            )
        except (Http404, NotFound):
            raise ValidationError({"page": "no such page"}) from None
        return paginator.get_paginated_response([claim_as_dict(t) for t in page])
