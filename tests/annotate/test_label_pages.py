"""The label and review pages claim with a POST only: a plain GET (a link, an
<img> from another site, a prefetch) creates no task and renews no lease."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alweb.roles import Role
from annotate.models import Item, ItemStatus, Task, TaskKind, TaskStatus
from annotate.services.queue import queue_claim_next
from tests.factories import make_items

pytestmark = pytest.mark.django_db

PAGES = {
    TaskKind.LABEL: ("label", Role.ANNOTATOR),
    TaskKind.REVIEW: ("review", Role.REVIEWER),
}


def _ready_items(project, kind, n=2):
    items = make_items(project, n)
    if kind == TaskKind.REVIEW:
        Item.objects.filter(pk__in=[i.pk for i in items]).update(
            status=ItemStatus.REVIEW
        )
    return items


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_get_claims_nothing(client, project_roles, kind):
    project, users, _ = project_roles
    page, role = PAGES[kind]
    _ready_items(project, kind)
    client.force_login(users[role])
    res = client.get(f"/projects/{project.pk}/{page}/")
    assert res.status_code == 200 and "csrftoken" in res.cookies
    body = res.content.decode()
    assert '"task": null' in body and 'data-testid="claim"' in body
    assert "<script>" not in body.split("task-page-config")[0][-200:]
    assert not Task.objects.exists()
    assert not Item.objects.filter(status=ItemStatus.LABELING).exists()


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_get_shows_the_held_task_without_renewing_its_lease(
    client, project_roles, kind
):
    project, users, _ = project_roles
    page, role = PAGES[kind]
    _ready_items(project, kind)
    task = queue_claim_next(project=project, user=users[role], kind=kind)
    lease = timezone.now() + timedelta(seconds=30)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=lease)
    client.force_login(users[role])
    body = client.get(f"/projects/{project.pk}/{page}/").content.decode()
    assert f'"id": {task.pk}, "kind": "{kind}"' in body
    assert Task.objects.get(pk=task.pk).lease_expires_at == lease
    assert Task.objects.count() == 1


def test_an_expired_claim_is_not_shown_as_held(client, project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    task = queue_claim_next(project=project, user=users[Role.ANNOTATOR], kind="label")
    past = timezone.now() - timedelta(seconds=1)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=past)
    client.force_login(users[Role.ANNOTATOR])
    body = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert '"task": null' in body
    assert Task.objects.get(pk=task.pk).lease_expires_at == past


@pytest.mark.parametrize("kind", list(PAGES))
def test_the_no_script_form_claims_with_a_post(client, project_roles, kind):
    project, users, _ = project_roles
    page, role = PAGES[kind]
    (first, _) = _ready_items(project, kind)
    client.force_login(users[role])
    res = client.post(f"/projects/{project.pk}/{page}/")
    assert (
        res.status_code == 302 and res["Location"] == f"/projects/{project.pk}/{page}/"
    )
    task = Task.objects.get()
    assert (task.assignee, task.kind, task.status) == (users[role], kind, "active")
    body = client.get(res["Location"]).content.decode()
    assert f'"id": {task.pk}, "kind": "{kind}"' in body


def test_an_empty_queue_says_so_after_the_form_post(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.ANNOTATOR])
    res = client.post(f"/projects/{project.pk}/label/", follow=True)
    assert "Nothing to label right now." in res.content.decode()
    assert not Task.objects.exists()


def test_a_cross_site_post_without_the_csrf_token_is_refused(project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(users[Role.ANNOTATOR])
    assert client.post(f"/projects/{project.pk}/label/").status_code == 403
    assert not Task.objects.filter(status=TaskStatus.ACTIVE).exists()
