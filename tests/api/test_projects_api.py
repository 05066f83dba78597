"""Projects, members, pipeline and item reads through the API (RELIABILITY A, E)."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Item, Membership, Project
from annotate.services.queue import queue_claim_next
from tests.api.helpers import client_for
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def test_create_project_makes_the_caller_owner(project_roles):
    _, users, outsider = project_roles
    client = client_for(outsider)
    r = client.post(
        reverse("api-project-list"),
        {"name": "Mine", "labels": ["car", "dog"], "kinds": ["box"]},
        format="json",
    )
    assert r.status_code == 201
    project = Project.objects.get(pk=r.data["id"])
    assert Membership.objects.get(project=project, user=outsider).role == "owner"
    listed = client.get(reverse("api-project-list")).json()
    assert set(listed) == {"count", "next", "previous", "results"}
    assert [p["name"] for p in listed["results"]] == ["Mine"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "labels": ["a"], "kinds": ["box"]}, "name"),
        ({"name": "x\x00y", "labels": ["a"], "kinds": ["box"]}, "name"),
        ({"name": "ok", "labels": ["a\u200bb"], "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": ["a\x07"], "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": ["x" * 10_000], "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": ["a", "a"], "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": [], "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": "a", "kinds": ["box"]}, "labels"),
        ({"name": "ok", "labels": ["a"], "kinds": ["circle"]}, "kinds"),
        ({"name": "n" * 201, "labels": ["a"], "kinds": ["box"]}, "name"),
        ({"name": 5, "labels": [None], "kinds": None}, "labels"),
    ],
)
def test_bad_project_fields_answer_400_with_the_field(project_roles, body, field):
    _, users, _ = project_roles
    before = Project.objects.count()
    r = client_for(users[Role.OWNER]).post(
        reverse("api-project-list"), body, format="json"
    )
    assert r.status_code == 400 and field in r.json(), r.content
    assert Project.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        "{" * 50_000,
        '{"name": "x", "labels": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "not json",
        "[1, 2]",
        '"string"',
    ],
)
def test_malformed_json_bodies_answer_400(project_roles, body):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    for url, verb in [
        (reverse("api-project-list"), "post"),
        (reverse("api-project-detail", args=[project.pk]), "patch"),
        (reverse("api-pipeline", args=[project.pk]), "patch"),
        (reverse("api-member-list", args=[project.pk]), "post"),
        (reverse("api-import", args=[project.pk]), "post"),
    ]:
        r = getattr(client, verb)(url, body, content_type="application/json")
        assert r.status_code == 400, (url, r.status_code)


def test_patch_ignores_mass_assignment_fields(project_roles, other_project):
    project, users, _ = project_roles
    client = client_for(users[Role.DEVELOPER])
    r = client.patch(
        reverse("api-project-detail", args=[project.pk]),
        {
            "id": other_project.pk,
            "created_by": users[Role.DEVELOPER].pk,
            "kinds": ["box"],
            "role": "owner",
            "description": "fine",
        },
        format="json",
    )
    assert r.status_code == 200
    project.refresh_from_db()
    assert project.pk != other_project.pk
    assert project.created_by == users[Role.OWNER]
    assert project.kinds == ["box", "polygon"]
    assert project.description == "fine"
    assert Membership.objects.get(user=users[Role.DEVELOPER], project=project).role == (
        "developer"
    )


def test_patch_labels_refuses_removing_a_label_in_use(project_roles):
    from annotate.services.annotations import annotations_replace, shapes_validate

    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    label = project.labels[0]
    shapes = shapes_validate(
        item=item, shapes=[{"kind": "box", "label": label, "bbox": [1, 1, 5, 5]}]
    )
    annotations_replace(item=item, shapes=shapes, author=None)
    r = client_for(users[Role.OWNER]).patch(
        reverse("api-project-detail", args=[project.pk]),
        {"labels": project.labels[1:]},
        format="json",
    )
    assert r.status_code == 400 and "labels" in r.json()


def test_members_cannot_escalate_themselves(project_roles, other_project):
    project, users, _ = project_roles
    owner = users[Role.OWNER]
    client = client_for(owner)
    r = client.patch(
        reverse("api-member-detail", args=[project.pk, owner.pk]),
        {"role": "annotator"},
        format="json",
    )
    assert r.status_code == 403
    dev = users[Role.DEVELOPER]
    r = client_for(dev).patch(
        reverse("api-member-detail", args=[project.pk, dev.pk]),
        {"role": "owner"},
        format="json",
    )
    assert r.status_code == 403
    r = client_for(dev).post(
        reverse("api-member-list", args=[other_project.pk]),
        {"username": dev.username, "role": "owner"},
        format="json",
    )
    assert r.status_code == 404
    assert not Membership.objects.filter(project=other_project, user=dev).exists()
    assert Membership.objects.get(project=project, user=dev).role == "developer"


def test_member_add_change_remove(project_roles):
    from tests.factories import UserFactory

    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    newcomer = UserFactory(username="newbie")
    url = reverse("api-member-list", args=[project.pk])
    r = client.post(url, {"username": "newbie", "role": "reviewer"}, format="json")
    assert r.status_code == 201 and r.data["role"] == "reviewer"
    r = client.post(url, {"username": "newbie", "role": "reviewer"}, format="json")
    assert r.status_code == 409
    r = client.post(url, {"username": "ghost", "role": "reviewer"}, format="json")
    assert r.status_code == 400 and "username" in r.json()
    r = client.post(url, {"username": "newbie", "role": "admin"}, format="json")
    assert r.status_code == 400 and "role" in r.json()
    detail = reverse("api-member-detail", args=[project.pk, newcomer.pk])
    assert client.patch(detail, {"role": "annotator"}, format="json").data["role"] == (
        "annotator"
    )
    assert client.delete(detail).status_code == 204
    assert client.delete(detail).status_code == 404


def test_pipeline_get_and_patch(project_roles):
    project, users, _ = project_roles
    url = reverse("api-pipeline", args=[project.pk])
    data = client_for(users[Role.ANNOTATION_MANAGER]).get(url).json()
    assert data["best_model"] is None and data["split"]["train"] == 0.8
    r = client_for(users[Role.ANNOTATION_MANAGER]).patch(
        url, {"split": {"seed": 1}}, format="json"
    )
    assert r.status_code == 403
    r = client_for(users[Role.DEVELOPER]).patch(
        url, {"split": {"train": "lots"}, "best_model": 99}, format="json"
    )
    assert r.status_code == 400 and "split" in r.json()
    r = client_for(users[Role.DEVELOPER]).patch(
        url, {"triggers": {"every_n_approved": 5}}, format="json"
    )
    assert r.status_code == 200 and r.data["triggers"]["every_n_approved"] == 5


def test_item_list_filters_and_unknown_values(project_roles):
    project, users, _ = project_roles
    make_items(project, 3)
    client = client_for(users[Role.OWNER])
    url = reverse("api-item-list", args=[project.pk])
    everything = client.get(url).json()
    assert everything["count"] == 3
    assert client.get(url, {"status": "unlabeled"}).json()["count"] == 3
    assert client.get(url, {"status": "done"}).json()["count"] == 0
    assert client.get(url, {"ordering": "created"}).json()["count"] == 3
    for params in (
        {"status": "bogus"},
        {"split": "nope"},
        {"ordering": "created_by__password"},
        {"page": "999"},
    ):
        r = client.get(url, params)
        assert r.status_code == 400, params
    # unknown keys are ignored: same result as unfiltered
    r = client.get(url, {"created_by__password__startswith": "pbkdf2", "project": 999})
    assert r.json()["results"] == everything["results"]


def test_annotators_see_only_items_they_hold_tasks_on(project_roles, other_project):
    project, users, _ = project_roles
    items = make_items(project, 3)
    annotator = users[Role.ANNOTATOR]
    client = client_for(annotator)
    url = reverse("api-item-list", args=[project.pk])
    assert client.get(url).json()["count"] == 0
    task = queue_claim_next(project=project, user=annotator, kind="label")
    listed = client.get(url).json()["results"]
    assert [i["id"] for i in listed] == [task.item_id]
    assert (
        client.get(reverse("api-item-detail", args=[task.item_id])).status_code == 200
    )
    other = next(i for i in items if i.pk != task.item_id)
    assert client.get(reverse("api-item-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("api-item-image", args=[other.pk])).status_code == 404
    (foreign,) = make_items(other_project, 1, start_seed=50)
    owner = client_for(users[Role.OWNER])
    assert owner.get(reverse("api-item-detail", args=[foreign.pk])).status_code == 404
    assert Item.objects.filter(project=other_project).count() == 1


def test_item_detail_shape(project_roles):
    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    data = client_for(users[Role.OWNER]).get(reverse("api-item-detail", args=[item.pk]))
    assert {
        "id",
        "width",
        "height",
        "status",
        "split",
        "priority",
        "uncertainty",
        "annotations",
    } <= set(data.json())


def test_delete_project_owner_only(project_roles):
    project, users, _ = project_roles
    url = reverse("api-project-detail", args=[project.pk])
    assert client_for(users[Role.DEVELOPER]).delete(url).status_code == 403
    assert client_for(users[Role.OWNER]).delete(url).status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


def test_schema_is_served(project_roles):
    _, users, _ = project_roles
    r = client_for(users[Role.OWNER]).get("/api/schema/")
    assert (
        r.status_code == 200 and b"/api/v1/projects/{project_id}/export/" in r.content
    )


def test_removed_member_loses_access_at_once(project_roles):
    project, users, _ = project_roles
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    manager = users[Role.ANNOTATION_MANAGER]
    client = APIClient()  # token auth: the user is loaded afresh per request
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager)}")
    url = reverse("api-item-list", args=[project.pk])
    assert client.get(url).status_code == 200
    owner = client_for(users[Role.OWNER])
    r = owner.delete(reverse("api-member-detail", args=[project.pk, manager.pk]))
    assert r.status_code == 204
    assert client.get(url).status_code == 404
