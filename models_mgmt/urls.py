"""HTML routes of models_mgmt."""

from django.urls import path

from models_mgmt import (
    views,
    views_backtests,
    views_pipeline,
    views_segmenter,
    views_settings,
    views_versions,
)

app_name = "models_mgmt"

urlpatterns = [
    path(
        "projects/<int:project_id>/backtests/",
        views_backtests.backtests_page,
        name="backtests",
    ),
    path(
        "projects/<int:project_id>/backtests/<int:run_id>/",
        views_backtests.backtest_page,
        name="backtest",
    ),
    path(
        "projects/<int:project_id>/backtests/<int:run_id>/<str:name>",
        views_backtests.backtest_file,
        name="backtest-file",
    ),
    path(
        "projects/<int:project_id>/settings/",
        views_settings.project_settings,
        name="project-settings",
    ),
    path("projects/<int:project_id>/models/", views.models_page, name="models"),
    path(
        "projects/<int:project_id>/pipeline/",
        views_pipeline.pipeline_page,
        name="pipeline",
    ),
    path("projects/<int:project_id>/models/train/", views.train_now, name="train"),
    path(
        "projects/<int:project_id>/models/base/",
        views.register_base,
        name="register-base",
    ),
    path(
        "projects/<int:project_id>/models/segmenter/",
        views_segmenter.segmenter_form,
        name="segmenter",
    ),
    path(
        "projects/<int:project_id>/models/compare/",
        views_versions.compare_page,
        name="compare",
    ),
    path(
        "projects/<int:project_id>/models/roll-back/",
        views_versions.roll_back,
        name="roll-back",
    ),
    path(
        "projects/<int:project_id>/models/v<int:number>/",
        views_versions.version_page,
        name="version",
    ),
    path(
        "projects/<int:project_id>/models/id/<int:model_id>/",
        views_versions.version_by_id,
        name="version-by-id",
    ),
    path(
        "projects/<int:project_id>/models/v<int:number>/weights",
        views_versions.version_weights,
        name="version-weights",
    ),
    path(
        "projects/<int:project_id>/models/v<int:number>/errors/",
        views_versions.version_errors,
        name="version-errors",
    ),
    path(
        "projects/<int:project_id>/models/<int:model_id>/promote/",
        views.promote,
        name="promote",
    ),
    path(
        "projects/<int:project_id>/runs/<int:run_id>/cancel/",
        views.run_cancel,
        name="run-cancel",
    ),
    path(
        "projects/<int:project_id>/runs/<int:run_id>/retry/",
        views.run_retry,
        name="run-retry",
    ),
]
