"""API routes of models_mgmt (mounted under /api/v1/)."""

from django.urls import path

from models_mgmt.api import backtests, errors, pipeline, segmenter, versions

urlpatterns = [
    path(
        "projects/<int:project_id>/backtests/",
        backtests.BacktestStartApi.as_view(),
        name="api-project-backtests",
    ),
    path(
        "projects/<int:project_id>/pipeline/",
        pipeline.PipelineApi.as_view(),
        name="api-pipeline",
    ),
    path(
        "projects/<int:project_id>/models/",
        versions.ModelListApi.as_view(),
        name="api-project-models",
    ),
    path(
        "projects/<int:project_id>/segmenter/",
        segmenter.SegmenterApi.as_view(),
        name="api-project-segmenter",
    ),
    path(
        "items/<int:item_id>/segment/",
        segmenter.ItemSegmentApi.as_view(),
        name="api-item-segment",
    ),
    path(
        "projects/<int:project_id>/train/",
        versions.ProjectTrainApi.as_view(),
        name="api-project-train",
    ),
    path(
        "models/<int:model_id>/",
        versions.ModelDetailApi.as_view(),
        name="api-model-detail",
    ),
    path(
        "models/<int:model_id>/errors/",
        errors.ModelErrorsApi.as_view(),
        name="api-model-errors",
    ),
    path(
        "models/<int:model_id>/promote/",
        versions.ModelPromoteApi.as_view(),
        name="api-model-promote",
    ),
    path(
        "projects/<int:project_id>/evaluations/",
        versions.EvaluationListApi.as_view(),
        name="api-project-evaluations",
    ),
    path(
        "projects/<int:project_id>/comparisons/",
        versions.ComparisonListApi.as_view(),
        name="api-project-comparisons",
    ),
]
