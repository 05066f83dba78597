"""API routes of models_mgmt (mounted under /api/v1/)."""

from django.urls import path

from models_mgmt import api

urlpatterns = [
    path(
        "projects/<int:project_id>/models/",
        api.ModelListApi.as_view(),
        name="api-project-models",
    ),
    path(
        "projects/<int:project_id>/train/",
        api.ProjectTrainApi.as_view(),
        name="api-project-train",
    ),
    path(
        "models/<int:model_id>/", api.ModelDetailApi.as_view(), name="api-model-detail"
    ),
    path(
        "models/<int:model_id>/promote/",
        api.ModelPromoteApi.as_view(),
        name="api-model-promote",
    ),
    path(
        "projects/<int:project_id>/evaluations/",
        api.EvaluationListApi.as_view(),
        name="api-project-evaluations",
    ),
    path(
        "projects/<int:project_id>/comparisons/",
        api.ComparisonListApi.as_view(),
        name="api-project-comparisons",
    ),
]
