"""Root URL configuration: wires the apps, auth, admin and health check."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from alweb import views, views_accounts

# Request-limit errors raised outside DRF views (middleware, forms): JSON under /api/.
handler400 = "alweb.errors.bad_request"

admin.site.site_header = "alweb administration"
admin.site.site_title = "alweb admin"
# The admin uses the app's login page (with its lock after repeated failures).
# A signed-in non-staff user gets 403 there (the login page would send them back).
admin.site.login = views.admin_login

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="annotate:project-list"), name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/token/", views_accounts.api_token, name="account-token"),
    path(
        "accounts/invite/<str:token>/",
        views_accounts.invite_accept,
        name="invite-accept",
    ),
    path("healthz", views.healthz, name="healthz"),
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("alweb.api_urls")),
    # Members only: anonymous callers get 401 (schema) or the login page (docs).
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    # The split view serves its start-up script from ?script, so the page runs
    # under the app's CSP with no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema",
            permission_classes=[IsAuthenticated],
            template_name="api/docs.html",
        ),
        name="api-docs",
    ),
    path("", include("annotate.urls")),
    path("", include("models_mgmt.urls")),
]
