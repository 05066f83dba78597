"""The world tests/annotate/test_checks.py and test_consensus.py start from (an
owner's project and its members), their shapes, and the two checks each runs
on its share setting (check_share, consensus_share): the API and the settings
page refuse a bad one with its reason and save nothing."""

from django.test import Client
from django.urls import reverse

from annotate.models import Pipeline
from tests.api.helpers import client_for
from tests.factories import UserFactory, add_member, make_project
from tests.models_mgmt.test_settings_page import FORM

SHARE_REASON = "must be a number from 0 to 1"


def box(label, x, y=5, w=20, h=20):
    return {"kind": "box", "label": label, "bbox": [x, y, w, h]}


def make_team(owner_name: str, project_name: str, members) -> tuple:
    """A project of `owner_name` with `members` ((username, role), in order);
    (project, {username: user}, the owner under "own")."""
    owner = UserFactory(username=owner_name)
    project = make_project(owner, name=project_name)
    users = {
        name: add_member(project, role, UserFactory(username=name))
        for name, role in members
    }
    users["own"] = owner
    return project, users


def _share(project, field: str) -> float:
    return getattr(Pipeline.objects.get(project=project), field)


def assert_api_refuses_share(owner, project, field: str, bad) -> None:
    """PATCH of the pipeline with `bad` for `field`: 400 naming it, still 0."""
    r = client_for(owner).patch(
        reverse("api-pipeline", args=[project.pk]), {field: bad}, format="json"
    )
    assert r.status_code == 400, r.content
    assert r.json()[field] == [SHARE_REASON]
    assert _share(project, field) == 0.0


def settings_page_share(owner, project, field: str, *, bad, good, form=FORM):
    """The settings page of `owner`: a POST of `bad` for `field` is 400 with the
    reason and saves nothing, one of `good` saves it. (The page as first
    shown, the refusal's page), for the caller's own checks."""
    client = Client()
    client.force_login(owner)
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    page = client.get(url).content.decode()
    r = client.post(url, {**form, field: bad})
    assert r.status_code == 400
    body = r.content.decode()
    assert SHARE_REASON in body
    assert _share(project, field) == 0.0
    r = client.post(url, {**form, field: good})
    assert r.status_code in (200, 302)
    assert _share(project, field) == float(good)
    return page, body
