"""Styled 403, 404 and 405 pages with navigation, /admin/ for a signed-in
non-staff user, and the favicon."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from alweb.roles import Role

pytestmark = pytest.mark.django_db


def _styled(response, code):
    body = response.content.decode()
    assert response.status_code == code
    assert 'data-testid="error-page"' in body, body[:300]
    assert f"<h1>{code} ·" in body
    assert 'data-testid="error-nav"' in body and 'href="/projects/"' in body
    assert 'rel="icon"' in body
    return body


def test_404_page_for_an_unknown_or_foreign_project(client, project_roles):
    project, users, outsider = project_roles
    client.force_login(outsider)
    _styled(client.get(f"/projects/{project.pk}/"), 404)
    _styled(client.get("/no/such/page/"), 404)


def test_403_page_for_a_role_without_the_permission(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.ANNOTATOR])
    _styled(client.get(reverse("annotate:project-items", args=[project.pk])), 403)


def test_405_page_keeps_the_allow_header_and_the_api_keeps_json(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    response = client.get(reverse("annotate:project-items-bulk", args=[project.pk]))
    _styled(response, 405)
    assert response["Allow"] == "POST"
    api = client.delete(f"/api/v1/projects/{project.pk}/items/")
    assert api.status_code == 405 and api["Content-Type"] == "application/json"


def test_admin_is_403_for_a_signed_in_non_staff_user_not_a_loop(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    response = client.get("/admin/", follow=True)
    assert len(response.redirect_chain) <= 1, response.redirect_chain
    body = _styled(response, 403)
    assert "staff" in body or "Not allowed" in body
    user = users[Role.OWNER]
    user.is_staff = user.is_superuser = True
    user.save()
    assert client.get("/admin/").status_code == 200
    client.logout()
    response = client.get("/admin/", follow=True)
    assert response.request["PATH_INFO"] == "/accounts/login/"


def test_favicon_is_a_static_svg_reachable_without_login(client):
    path = finders.find("favicon.svg")
    assert path and open(path).read().startswith("<svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
