"""Versioned drafts and idempotent submits through the API: the loser of two
saves from the same draft version gets 409 with the current version (nothing
overwritten), a submit retried with its client id is applied once and answered
like the first, and bad client ids or versions are 400 naming the field."""

import pytest
from rest_framework.test import APIClient

from alweb.roles import Role
from annotate.models import Annotation, Event, Item, Task, TaskStatus
from tests.factories import make_items

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}
OTHER = {"kind": "box", "label": "circle", "bbox": [30, 30, 10, 10]}


@pytest.fixture
def held(project_roles):
    """(api client logged in as the annotator, their claimed task's JSON)."""
    project, users, _ = project_roles
    make_items(project, 2)
    api = APIClient()
    api.force_authenticate(users[Role.ANNOTATOR])
    res = api.post(
        f"/api/v1/projects/{project.pk}/tasks/next/", {"kind": "label"}, format="json"
    )
    assert res.status_code == 200
    return api, res.json()


def _draft(api, task, body):
    return api.put(f"/api/v1/tasks/{task['id']}/draft/", body, format="json")


def _submit(api, task, body):
    return api.post(f"/api/v1/tasks/{task['id']}/submit/", body, format="json")


def _boxes(task_id):
    item = Task.objects.get(pk=task_id).item
    rows = Annotation.objects.filter(item=item).order_by("pk")
    return [a.geometry["bbox"] for a in rows]


def test_two_saves_from_the_same_version_the_second_gets_409_with_the_version(held):
    api, task = held
    assert task["version"] == 0
    first = _draft(api, task, {"annotations": [BOX], "version": 0})
    assert first.status_code == 200 and first.json()["version"] == 1
    # A second tab that loaded the task at version 0 saves its own shapes.
    second = _draft(api, task, {"annotations": [OTHER], "version": 0})
    assert second.status_code == 409
    body = second.json()
    assert body["version"] == 1 and "another tab" in body["detail"]
    saved = Task.objects.get(pk=task["id"])
    assert saved.draft_version == 1 and saved.draft[0]["bbox"] == BOX["bbox"]
    # The claim (what a reload shows) carries the version to save from next.
    again = _draft(api, task, {"annotations": [OTHER], "version": 1})
    assert again.status_code == 200 and again.json()["version"] == 2


def test_a_draft_save_without_a_version_always_applies(held):
    api, task = held
    assert _draft(api, task, {"annotations": [BOX], "version": 0}).status_code == 200
    res = _draft(api, task, {"annotations": [OTHER]})
    assert res.status_code == 200 and res.json()["version"] == 2
    assert Task.objects.get(pk=task["id"]).draft[0]["bbox"] == OTHER["bbox"]


def test_a_save_on_a_finished_task_says_lease_lost_not_version(held):
    api, task = held
    assert _submit(api, task, {"annotations": [BOX]}).status_code == 200
    res = _draft(api, task, {"annotations": [OTHER], "version": 0})
    assert res.status_code == 409
    assert res.json()["task_status"] == "submitted" and "version" not in res.json()


def test_a_retried_submit_with_its_client_id_is_applied_once(held):
    api, task = held
    body = {"annotations": [BOX], "client_id": "0b8e6f3a-5d1c-4c2e-9f7a-1e2d3c4b5a69"}
    first = _submit(api, task, body)
    assert first.status_code == 200
    retry = _submit(api, task, body)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    # A retry never applies twice, even if its shapes differ from the first.
    changed = _submit(api, task, {**body, "annotations": [OTHER]})
    assert changed.status_code == 200 and changed.json() == first.json()
    assert _boxes(task["id"]) == [BOX["bbox"]]
    submits = Event.objects.filter(verb="label_submitted", item_id=task["item"]["id"])
    assert submits.count() == 1
    assert Item.objects.get(pk=task["item"]["id"]).status == "review"


def test_another_client_id_or_none_on_a_submitted_task_is_409(held):
    api, task = held
    assert _submit(api, task, {"annotations": [BOX], "client_id": "a-1"}).json()
    for body in ({"client_id": "a-2"}, {}):
        res = _submit(api, task, {"annotations": [OTHER], **body})
        assert res.status_code == 409, body
        assert res.json()["task_status"] == "submitted"
    assert _boxes(task["id"]) == [BOX["bbox"]]


@pytest.mark.parametrize(
    ("client_id", "reason"),
    [
        ("", "blank"),
        ("x" * 65, "64"),
        ("two words", "letters"),
        ("<script>", "letters"),
        (12, "string"),
        (["a"], "string"),
        (None, "null"),
    ],
)
def test_a_bad_client_id_is_400_naming_it_and_submits_nothing(held, client_id, reason):
    api, task = held
    res = _submit(api, task, {"annotations": [BOX], "client_id": client_id})
    assert res.status_code == 400
    assert reason in " ".join(res.json()["client_id"])
    assert Task.objects.get(pk=task["id"]).status == TaskStatus.ACTIVE
    assert _boxes(task["id"]) == []


def test_a_64_character_client_id_is_accepted(held):
    api, task = held
    client_id = "A" * 60 + ".:_-"
    res = _submit(api, task, {"annotations": [], "client_id": client_id})
    assert res.status_code == 200
    assert Task.objects.get(pk=task["id"]).submit_client_id == client_id


def test_a_submit_from_a_stale_version_is_409_and_submits_nothing(held):
    api, task = held
    assert _draft(api, task, {"annotations": [BOX], "version": 0}).status_code == 200
    stale = _submit(api, task, {"annotations": [OTHER], "version": 0})
    assert stale.status_code == 409 and stale.json()["version"] == 1
    assert Task.objects.get(pk=task["id"]).status == TaskStatus.ACTIVE
    assert _boxes(task["id"]) == []
    fresh = _submit(api, task, {"annotations": [OTHER], "version": 1, "client_id": "c"})
    assert fresh.status_code == 200
    assert _boxes(task["id"]) == [OTHER["bbox"]]


@pytest.mark.parametrize("version", [-1, "x", 2**63, 1.5])
def test_a_bad_submit_version_is_400_naming_it(held, version):
    api, task = held
    res = _submit(api, task, {"annotations": [BOX], "version": version})
    assert res.status_code == 400 and "version" in res.json()
    assert Task.objects.get(pk=task["id"]).status == TaskStatus.ACTIVE
