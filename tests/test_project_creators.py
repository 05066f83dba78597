"""Who may create projects is the site's choice (ALWEB_PROJECT_CREATORS): with
"staff", other accounts get 403 from the page and the API, nothing is created,
and the page offers no form."""

import pytest
from django.urls import reverse

from annotate.models import Project
from tests.api.helpers import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "Made", "labels": "car", "kinds": ["box"]}
BODY = {"name": "Made", "labels": ["car"], "kinds": ["box"]}


def test_with_staff_only_other_accounts_cannot_create_projects(client, settings):
    settings.ALWEB_PROJECT_CREATORS = "staff"
    user = UserFactory(username="plain")
    client.force_login(user)
    page = client.get(reverse("annotate:project-list")).content.decode()
    assert 'data-testid="no-project-create"' in page and "New project" not in page
    assert client.post(reverse("annotate:project-list"), FORM).status_code == 403
    api = client_for(user)
    response = api.post(reverse("api-project-list"), BODY, format="json")
    assert response.status_code == 403
    assert not Project.objects.filter(name="Made").exists()


def test_with_staff_only_staff_accounts_create_projects(client, settings):
    settings.ALWEB_PROJECT_CREATORS = "staff"
    staff = UserFactory(username="staffer", is_staff=True)
    client.force_login(staff)
    assert (
        "New project" in client.get(reverse("annotate:project-list")).content.decode()
    )
    assert client.post(reverse("annotate:project-list"), FORM).status_code == 302
    api = client_for(staff)
    response = api.post(reverse("api-project-list"), BODY, format="json")
    assert response.status_code == 201
    assert Project.objects.filter(name="Made").count() == 2


def test_by_default_everyone_signed_in_creates_projects(client):
    client.force_login(UserFactory(username="anyone"))
    assert client.post(reverse("annotate:project-list"), FORM).status_code == 302


def test_an_unknown_creators_setting_refuses_to_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "ALWEB_PROJECT_CREATORS": "managers"}
    result = subprocess.run(
        [sys.executable, "-c", "import alweb.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ALWEB_PROJECT_CREATORS" in result.stderr
