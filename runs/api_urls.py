"""API routes of runs (mounted under /api/v1/)."""

from django.urls import path

from runs import api

urlpatterns = [
    path(
        "projects/<int:project_id>/runs/",
        api.ProjectRunListApi.as_view(),
        name="api-project-runs",
    ),
    path("runs/<int:run_id>/", api.RunDetailApi.as_view(), name="api-run-detail"),
    path(
        "runs/<int:run_id>/cancel/", api.RunCancelApi.as_view(), name="api-run-cancel"
    ),
    path("runs/<int:run_id>/retry/", api.RunRetryApi.as_view(), name="api-run-retry"),
]
