"""The OpenAPI schema and the docs page are for members: anonymous callers get
401 (schema) or the login page (docs); the docs page runs under the app's CSP."""

import re

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_callers_get_401_for_the_schema_and_login_for_the_docs(client):
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/schema/?format=json").status_code == 401
    for url in ["/api/docs/", "/api/docs/?script="]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_members_get_the_schema_by_session_and_by_token(client):
    user = UserFactory(username="member")
    client.force_login(user)
    assert b"/api/v1/projects/" in client.get("/api/schema/").content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
    assert api.get("/api/schema/").status_code == 200


def test_docs_page_has_no_inline_script_or_style_and_keeps_the_csp(client, settings):
    client.force_login(UserFactory(username="member"))
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    html = page.content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts), scripts
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
