"""ASSIGN_TASKS (owner, developer, annotation manager): list a project's active
claims and release anyone's, by the API and from the project overview."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alweb.roles import Role
from annotate.models import Event, Item, ItemStatus, Task, TaskStatus
from annotate.services.queue import queue_claim_next
from tests.factories import UserFactory, add_member, make_items

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def claims(project_roles, other_project):
    """Two annotators' label claims in the project, a finished one, and a claim
    in another project."""
    project, users, _ = project_roles
    second = add_member(project, Role.ANNOTATOR, UserFactory(username="annotator2"))
    make_items(project, 3)
    mine = queue_claim_next(project=project, user=users[Role.ANNOTATOR], kind="label")
    theirs = queue_claim_next(project=project, user=second, kind="label")
    done = queue_claim_next(project=project, user=users[Role.OWNER], kind="label")
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.RELEASED)
    make_items(other_project, 1, start_seed=50)
    other_owner = other_project.memberships.get().user
    elsewhere = queue_claim_next(project=other_project, user=other_owner, kind="label")
    return {"mine": mine, "theirs": theirs, "done": done, "elsewhere": elsewhere}


@pytest.mark.parametrize("role", [Role.OWNER, Role.DEVELOPER, Role.ANNOTATION_MANAGER])
def test_managers_list_the_active_claims_of_their_project(project_roles, claims, role):
    project, users, _ = project_roles
    res = api(users[role]).get(f"/api/v1/projects/{project.pk}/tasks/")
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    by_id = {row["id"]: row for row in body["results"]}
    assert set(by_id) == {claims["mine"].pk, claims["theirs"].pk}
    row = by_id[claims["theirs"].pk]
    assert row["assignee"] == "annotator2" and row["kind"] == "label"
    assert row["item"] == claims["theirs"].item_id and row["lease_expires_at"]
    page = api(users[role]).get(f"/api/v1/projects/{project.pk}/tasks/?page=9")
    assert page.status_code == 400 and "page" in page.json()


def test_a_manager_releases_an_annotators_claim(project_roles, claims):
    project, users, _ = project_roles
    manager = users[Role.ANNOTATION_MANAGER]
    task = claims["theirs"]
    res = api(manager).post(f"/api/v1/tasks/{task.pk}/release/")
    assert res.status_code == 200 and res.json()["status"] == "released"
    task.refresh_from_db()
    assert task.status == TaskStatus.RELEASED
    assert Item.objects.get(pk=task.item_id).status == ItemStatus.UNLABELED
    event = Event.objects.filter(verb="task_released", item_id=task.item_id).get()
    assert event.actor == manager and event.data["assignee"] == task.assignee_id
    # The assignee's open page learns it on its next save, and keeps the work.
    draft = api(task.assignee).put(
        f"/api/v1/tasks/{task.pk}/draft/", {"annotations": []}, format="json"
    )
    assert draft.status_code == 409
    again = api(manager).post(f"/api/v1/tasks/{task.pk}/release/")
    assert again.status_code == 409


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER])
def test_others_release_only_their_own_claims(project_roles, claims, role):
    project, users, _ = project_roles
    task = claims["theirs"]
    res = api(users[role]).post(f"/api/v1/tasks/{task.pk}/release/")
    assert res.status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACTIVE
    listing = api(users[role]).get(f"/api/v1/projects/{project.pk}/tasks/")
    assert listing.status_code == 403


def test_an_annotator_still_releases_their_own_claim(project_roles, claims):
    _, users, _ = project_roles
    task = claims["mine"]
    res = api(users[Role.ANNOTATOR]).post(f"/api/v1/tasks/{task.pk}/release/")
    assert res.status_code == 200
    assert Task.objects.get(pk=task.pk).status == TaskStatus.RELEASED


def test_no_manager_reaches_another_projects_claims(project_roles, claims):
    _, users, outsider = project_roles
    task = claims["elsewhere"]
    for user in [users[Role.OWNER], outsider]:
        res = api(user).post(f"/api/v1/tasks/{task.pk}/release/")
        assert res.status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACTIVE


def test_the_overview_lists_claims_with_a_release_button(client, project_roles, claims):
    project, users, _ = project_roles
    task = claims["theirs"]
    overview = reverse("annotate:project-detail", args=[project.pk])
    client.force_login(users[Role.ANNOTATION_MANAGER])
    body = client.get(overview).content.decode()
    assert f'data-testid="release-{task.pk}"' in body and "annotator2" in body
    assert f'data-testid="release-{claims["done"].pk}"' not in body
    url = reverse("annotate:task-release", args=[project.pk, task.pk])
    assert f'action="{url}"' in body and 'method="post"' in body
    assert client.get(url).status_code == 405  # a link cannot release
    res = client.post(url, follow=True)
    assert res.redirect_chain[-1][0] == overview
    assert "Released annotator2" in res.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.RELEASED
    res = client.post(url, follow=True)
    assert "already ended" in res.content.decode()


def test_the_overview_release_is_for_managers_of_that_project(
    client, project_roles, claims
):
    project, users, _ = project_roles
    task = claims["theirs"]
    url = reverse("annotate:task-release", args=[project.pk, task.pk])
    client.force_login(users[Role.ANNOTATOR])
    body = client.get(reverse("annotate:project-detail", args=[project.pk]))
    assert 'data-testid="claims-table"' not in body.content.decode()
    assert client.post(url).status_code == 403
    client.force_login(users[Role.OWNER])
    foreign = reverse(
        "annotate:task-release", args=[project.pk, claims["elsewhere"].pk]
    )
    assert client.post(foreign).status_code == 404
    assert Task.objects.filter(status=TaskStatus.ACTIVE).count() == 3
