"""Task endpoints of the REST API: claim next, peek at the next (read-only, for
preloading), autosave, submit, review, release, and the active claims of a project
(for holders of ASSIGN_TASKS)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import project_for
from alweb.exceptions import Conflict
from alweb.roles import Perm
from alweb.schema import CONFLICT, page_of
from annotate import selectors, selectors_queue
from annotate.api.outputs import (
    DraftSavedSerializer,
    TaskClaimSerializer,
    TaskDoneSerializer,
    TaskPeekSerializer,
    TaskReleasedSerializer,
    TaskSerializer,
)
from annotate.api.serializers import (
    ApproveInputSerializer,
    DraftInputSerializer,
    RejectInputSerializer,
    SubmitInputSerializer,
    TaskNextInputSerializer,
    TaskPeekInputSerializer,
)
from annotate.models import Item, Task, TaskKind
from annotate.responses import item_image_response
from annotate.services import labeling
from annotate.services import queue as queue_services

# Views --------------------------------------------------------------------------

_KIND_PERM = {TaskKind.LABEL: Perm.LABEL, TaskKind.REVIEW: Perm.REVIEW}


def _parse(serializer_class, request):
    data = request.data if isinstance(request.data, dict) else None
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _own_task(request, task_id) -> Task:
    """The caller's task, re-checking the role on every call (404 / 403)."""
    task = selectors.task_get_for_user(user=request.user, task_id=task_id)
    selectors.project_require(
        user=request.user, project=task.project, perm=_KIND_PERM[task.kind]
    )
    return task


def _done(task: Task, item: Item, status_text: str) -> Response:
    body = {"task": task.pk, "status": status_text, "item": item}
    body["check"] = task.is_check
    return Response(TaskDoneSerializer(body).data)


class TaskClaimNextApi(APIView):
    @extend_schema(
        operation_id="tasks_next",
        request=TaskNextInputSerializer,
        responses={
            200: TaskSerializer,
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
        return Response(TaskSerializer(task).data)


def _peek_query(request) -> dict:
    query = request.query_params
    data = {"exclude": query.getlist("exclude")}
    if "kind" in query:
        data["kind"] = query["kind"]
    serializer = TaskPeekInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


PEEK_PARAMETERS = [
    OpenApiParameter("kind", str, enum=list(TaskKind.values), default="label"),
    OpenApiParameter("exclude", int, many=True, explode=True),
]


class TaskPeekApi(APIView):
    @extend_schema(
        operation_id="tasks_peek",
        parameters=PEEK_PARAMETERS,
        responses={
            200: TaskPeekSerializer,
            204: OpenApiResponse(description="nothing else waits in the queue"),
        },
        summary="The item the next claim would most likely get (read-only)",
        description=(
            "For preloading: the item a claim of this kind would give the caller "
            "once the task they hold is finished, with its pre-annotations and an "
            "image URL valid while the item waits in the caller's queue. Claims "
            "nothing: no lease, no event; someone else may claim it first."
        ),
    )
    def get(self, request, project_id):
        data = _peek_query(request)
        project = project_for(request, project_id, _KIND_PERM[data["kind"]])
        item = selectors_queue.queue_peek(
            project=project,
            user=request.user,
            kind=data["kind"],
            exclude=data.get("exclude", ()),
        )
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TaskPeekSerializer({"kind": data["kind"], "item": item}).data)


class TaskPeekImageApi(APIView):
    @extend_schema(
        operation_id="tasks_peek_image",
        parameters=[PEEK_PARAMETERS[0]],
        summary="The image of an item waiting in the caller's queue (for preloading)",
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="image")
        },
    )
    def get(self, request, project_id, item_id):
        data = _peek_query(request)
        project = project_for(request, project_id, _KIND_PERM[data["kind"]])
        item = selectors_queue.queue_item_claimable(
            project=project, user=request.user, kind=data["kind"], item_id=item_id
        )
        response = item_image_response(item)
        response["Cache-Control"] = "private, max-age=600"
        return response


class TaskDraftSaveApi(APIView):
    @extend_schema(
        operation_id="tasks_draft_save",
        request=DraftInputSerializer,
        responses={200: DraftSavedSerializer, 409: CONFLICT},
        summary="Autosave work in progress and renew the lease",
        description=(
            "With `version` (the draft version the client last saw, 0 before the "
            "first save): applied only if the draft is still at that version, "
            "else 409 with the current `version` (another tab or window saved "
            "first; nothing is overwritten). Without it the save always applies."
        ),
    )
    def put(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(DraftInputSerializer, request)
        task = labeling.task_draft_save(
            task=task,
            shapes=data["annotations"],
            client_version=data.get("version"),
            fresh=True,  # _own_task just read it
        )
        return Response(DraftSavedSerializer(task).data)


class TaskSubmitApi(APIView):
    @extend_schema(
        operation_id="tasks_submit",
        request=SubmitInputSerializer,
        responses={200: TaskDoneSerializer, 409: CONFLICT},
        summary="Submit a label task; the item goes to review",
        description=(
            "Idempotent by `client_id`: a retry with the client id of the submit "
            "that ended the task gets the same 200 and changes nothing; another "
            "client id (or none) on a finished task gets 409. With `version` (the "
            "draft version the client last saw), a draft saved elsewhere since "
            "gives 409 with the current `version` and nothing is submitted."
        ),
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(SubmitInputSerializer, request)
        item = labeling.task_submit(
            task=task,
            shapes=data["annotations"],
            client_id=data.get("client_id"),
            client_version=data.get("version"),
            fresh=True,
        )
        return _done(task, item, "submitted")


class TaskApproveApi(APIView):
    @extend_schema(
        operation_id="tasks_approve",
        request=ApproveInputSerializer,
        responses={200: TaskDoneSerializer, 409: CONFLICT},
        summary="Approve a review task, optionally with corrected annotations",
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(ApproveInputSerializer, request)
        item = labeling.review_approve(
            task=task, shapes=data.get("annotations"), fresh=True
        )
        return _done(task, item, "approved")


class TaskRejectApi(APIView):
    @extend_schema(
        operation_id="tasks_reject",
        request=RejectInputSerializer,
        responses={200: TaskDoneSerializer, 409: CONFLICT},
        summary="Reject a review task with a comment; the item goes back to labelling",
    )
    def post(self, request, task_id):
        task = _own_task(request, task_id)
        data = _parse(RejectInputSerializer, request)
        item = labeling.review_reject(task=task, comment=data["comment"], fresh=True)
        return _done(task, item, "rejected")


class TaskReleaseApi(APIView):
    @extend_schema(
        operation_id="tasks_release",
        request=None,
        responses={200: TaskReleasedSerializer, 409: CONFLICT},
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
        body = {"task": task.pk, "status": "released"}
        return Response(TaskReleasedSerializer(body).data)


class TaskListApi(APIView):
    @extend_schema(
        operation_id="tasks_list",
        parameters=[OpenApiParameter("page", int)],
        responses={200: page_of(TaskClaimSerializer, "TaskClaim")},
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
        return paginator.get_paginated_response(
            TaskClaimSerializer(page, many=True).data
        )
