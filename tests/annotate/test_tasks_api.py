"""The task endpoints of the REST API: codes, bodies, permissions."""

import pytest
from rest_framework.test import APIClient

from alweb.roles import Role
from annotate.models import Item, Membership, Task, TaskStatus
from tests.factories import make_items

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}


@pytest.fixture
def api():
    return APIClient()


def _next(api, user, project, kind="label", **extra):
    api.force_authenticate(user)
    return api.post(
        f"/api/v1/projects/{project.pk}/tasks/next/",
        {"kind": kind, **extra},
        format="json",
    )


def test_next_returns_the_task_with_item_and_annotations(api, project_roles):
    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    res = _next(api, users[Role.ANNOTATOR], project)
    assert res.status_code == 200
    body = res.json()
    assert set(body) >= {"id", "kind", "item", "annotations", "lease_expires_at"}
    assert body["kind"] == "label" and body["annotations"] == []
    assert body["item"]["id"] == item.pk
    assert set(body["item"]) >= {
        "id", "width", "height", "status", "split", "priority", "uncertainty",
        "scored_by", "review_comment", "image_url",
    }  # fmt: skip
    # The label page fetches the image with the browser session.
    image_url = body["item"]["image_url"]
    api.force_authenticate(None)
    anonymous = api.get(image_url)
    assert anonymous.status_code == 401
    api.force_login(users[Role.ANNOTATOR])
    image = api.get(image_url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    with item.file.open("rb") as fh:
        assert b"".join(image.streaming_content) == fh.read()
    api.force_login(users[Role.REVIEWER])  # a member holding no task on it
    assert api.get(image_url).status_code == 404


def test_the_task_image_url_serves_the_image_to_a_token_client(api, project_roles):
    from rest_framework.authtoken.models import Token

    project, users, _ = project_roles
    make_items(project, 1)
    token, _ = Token.objects.get_or_create(user=users[Role.ANNOTATOR])
    token_client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    res = token_client.post(
        f"/api/v1/projects/{project.pk}/tasks/next/", {"kind": "label"}, format="json"
    )
    assert res.status_code == 200
    image = token_client.get(res.json()["item"]["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_empty_queue_is_204(api, project_roles):
    project, users, _ = project_roles
    assert _next(api, users[Role.ANNOTATOR], project).status_code == 204
    assert _next(api, users[Role.REVIEWER], project, "review").status_code == 204


def test_next_checks_the_role_and_hides_the_project(api, project_roles):
    project, users, outsider = project_roles
    make_items(project, 1)
    assert _next(api, users[Role.REVIEWER], project, "label").status_code == 403
    assert _next(api, users[Role.ANNOTATOR], project, "review").status_code == 403
    assert _next(api, outsider, project).status_code == 404
    assert _next(api, users[Role.OWNER], project, "nonsense").status_code == 400
    api.force_authenticate(None)
    res = api.post(f"/api/v1/projects/{project.pk}/tasks/next/", {"kind": "label"})
    assert res.status_code == 401


def test_bad_json_is_400_never_500(api, project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    task_id = _next(api, users[Role.ANNOTATOR], project).json()["id"]
    for body in ("{", "[1, 2]", '"x"', "null", '{"annotations": "nope"}'):
        res = api.put(
            f"/api/v1/tasks/{task_id}/draft/", body, content_type="application/json"
        )
        assert res.status_code == 400, body
    res = api.post(
        f"/api/v1/projects/{project.pk}/tasks/next/",
        "[" * 5000,
        content_type="application/json",
    )
    assert res.status_code == 400


def test_draft_save_then_stale_version_409_and_bad_shape_400(api, project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    task = _next(api, users[Role.ANNOTATOR], project).json()
    url = f"/api/v1/tasks/{task['id']}/draft/"
    res = api.put(url, {"annotations": [BOX], "version": 0}, format="json")
    assert res.status_code == 200
    assert set(res.json()) == {"saved_at", "version", "lease_expires_at"}
    assert res.json()["version"] == 1
    assert (
        api.put(url, {"annotations": [], "version": 0}, format="json").status_code
        == 409
    )
    bad = {"kind": "box", "label": "circle", "bbox": [5, 5, 0, 3]}
    res = api.put(url, {"annotations": [BOX, bad]}, format="json")
    assert res.status_code == 400
    assert "annotations[1]" in res.json()["annotations"][0]
    resumed = _next(api, users[Role.ANNOTATOR], project).json()
    assert resumed["id"] == task["id"] and resumed["annotations"][0]["bbox"] == [
        5, 5, 20, 20
    ]  # fmt: skip


def test_tasks_of_others_are_404_and_removed_members_lose_access(api, project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    task_id = _next(api, users[Role.ANNOTATOR], project).json()["id"]
    api.force_authenticate(users[Role.OWNER])
    url = f"/api/v1/tasks/{task_id}/draft/"
    assert api.put(url, {"annotations": []}, format="json").status_code == 404
    Membership.objects.filter(project=project, user=users[Role.ANNOTATOR]).delete()
    # A fresh user object, as each real request loads one (roles are cached on it).
    api.force_authenticate(type(users[Role.OWNER]).objects.get(username="annotator1"))
    assert api.put(url, {"annotations": []}, format="json").status_code == 404
    assert (
        api.post(f"/api/v1/tasks/{task_id}/submit/", {}, format="json").status_code
        == 404
    )


def test_full_round_trip_submit_reject_resubmit_approve(api, project_roles):
    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    ann, rev = users[Role.ANNOTATOR], users[Role.REVIEWER]
    task = _next(api, ann, project).json()
    res = api.post(
        f"/api/v1/tasks/{task['id']}/submit/", {"annotations": [BOX]}, format="json"
    )
    assert res.status_code == 200 and res.json()["item"]["status"] == "review"
    again = api.post(
        f"/api/v1/tasks/{task['id']}/submit/", {"annotations": [BOX]}, format="json"
    )
    assert again.status_code == 409
    review = _next(api, rev, project, "review").json()
    assert review["annotations"][0]["author"] == ann.username
    url = f"/api/v1/tasks/{review['id']}/reject/"
    res = api.post(url, {}, format="json")
    assert res.status_code == 400 and "comment" in res.json()
    assert api.post(url, {"comment": "  "}, format="json").status_code == 400
    assert api.post(url, {"comment": "too loose"}, format="json").status_code == 200
    back = _next(api, ann, project).json()
    assert back["item"]["id"] == item.pk
    assert back["item"]["review_comment"] == "too loose"
    assert len(back["annotations"]) == 1
    api.post(
        f"/api/v1/tasks/{back['id']}/submit/",
        {"annotations": [{**BOX, "bbox": [6, 6, 18, 18]}]},
        format="json",
    )
    review = _next(api, rev, project, "review").json()
    res = api.post(f"/api/v1/tasks/{review['id']}/approve/", {}, format="json")
    assert res.status_code == 200
    assert res.json()["item"]["split"] in {"train", "val", "test"}
    assert Item.objects.get(pk=item.pk).status == "done"


def test_release_gives_the_item_back_and_twice_is_409(api, project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    task = _next(api, users[Role.ANNOTATOR], project).json()
    url = f"/api/v1/tasks/{task['id']}/release/"
    assert api.post(url).status_code == 200
    assert Task.objects.get(pk=task["id"]).status == TaskStatus.RELEASED
    assert api.post(url).status_code == 409


def test_schema_documents_the_task_endpoints(api, project_roles):
    project, users, _ = project_roles
    api.force_authenticate(users[Role.OWNER])
    res = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert res.status_code == 200
    paths = res.json()["paths"] if res.headers["Content-Type"].endswith("json") else {}
    text = str(paths) if paths else res.content.decode()
    for path in ("tasks/next/", "/draft/", "/submit/", "/approve/", "/reject/"):
        assert path in text


@pytest.mark.parametrize("role", list(Role))
def test_label_and_review_tabs_follow_the_role(client, project_roles, role):
    from alweb.roles import Perm, role_allows

    project, users, _ = project_roles
    client.force_login(users[role])
    body = client.get(f"/projects/{project.pk}/").content.decode()
    assert ('data-testid="tab-label"' in body) == role_allows(role, Perm.LABEL)
    assert ('data-testid="tab-review"' in body) == role_allows(role, Perm.REVIEW)
