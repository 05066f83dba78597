"""REST API v1 (../shared/API.md): one include per API module."""

from django.urls import include, path

urlpatterns = [
    path("", include("annotate.api.urls")),
    path("", include("annotate.api.urls_tasks")),
    path("", include("models_mgmt.api_urls")),
    path("", include("runs.api_urls")),
]
