"""The upload page (no-JavaScript form path) and its link on the items page."""

import pytest
from django.urls import reverse

from alweb.roles import Perm, Role, role_allows
from annotate.models import Item
from tests.api.helpers import png, upload_file

pytestmark = pytest.mark.django_db


def test_form_upload_lists_created_and_escaped_skipped(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.ANNOTATION_MANAGER])
    url = reverse("annotate:project-upload", args=[project.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"upload.js" in page.content
    assert b"<script>" not in page.content and b"style=" not in page.content
    r = client.post(
        url,
        {
            "files": [
                upload_file("ok.png", png(1)),
                upload_file("<img src=x onerror=alert(1)>.png", b"junk"),
            ]
        },
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "1 items created" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert Item.objects.filter(project=project).count() == 1
    assert client.post(url, {}).status_code == 400


@pytest.mark.parametrize("role", list(Role))
def test_upload_link_only_for_roles_that_may_upload(client, project_roles, role):
    project, users, _ = project_roles
    client.force_login(users[role])
    r = client.get(reverse("annotate:project-items", args=[project.pk]))
    if r.status_code != 200:
        return
    shown = b'data-testid="upload-link"' in r.content
    assert shown == role_allows(role, Perm.UPLOAD_ITEMS)
