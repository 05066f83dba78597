"""Root URL configuration: wires the apps, auth, admin and health check."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from alweb import views

# Request-limit errors raised outside DRF views (middleware, forms): JSON under /api/.
handler400 = "alweb.errors.bad_request"

admin.site.site_header = "alweb administration"
admin.site.site_title = "alweb admin"
# The admin uses the app's login page (with its lock after repeated failures).
admin.site.login = RedirectView.as_view(pattern_name="login", query_string=True)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="annotate:project-list"), name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("alweb.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("", include("annotate.urls")),
    path("", include("models_mgmt.urls")),
]
