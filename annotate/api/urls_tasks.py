"""API routes of the label and review tasks."""

from django.urls import path

from annotate.api import tasks

urlpatterns = [
    path(
        "projects/<int:project_id>/tasks/",
        tasks.TaskListApi.as_view(),
        name="api-task-list",
    ),
    path(
        "projects/<int:project_id>/tasks/next/",
        tasks.TaskClaimNextApi.as_view(),
        name="api-task-next",
    ),
    path(
        "projects/<int:project_id>/tasks/peek/",
        tasks.TaskPeekApi.as_view(),
        name="api-task-peek",
    ),
    path(
        "projects/<int:project_id>/tasks/peek/<int:item_id>/image",
        tasks.TaskPeekImageApi.as_view(),
        name="api-task-peek-image",
    ),
    path(
        "tasks/<int:task_id>/draft/",
        tasks.TaskDraftSaveApi.as_view(),
        name="api-task-draft",
    ),
    path(
        "tasks/<int:task_id>/submit/",
        tasks.TaskSubmitApi.as_view(),
        name="api-task-submit",
    ),
    path(
        "tasks/<int:task_id>/approve/",
        tasks.TaskApproveApi.as_view(),
        name="api-task-approve",
    ),
    path(
        "tasks/<int:task_id>/reject/",
        tasks.TaskRejectApi.as_view(),
        name="api-task-reject",
    ),
    path(
        "tasks/<int:task_id>/release/",
        tasks.TaskReleaseApi.as_view(),
        name="api-task-release",
    ),
]
