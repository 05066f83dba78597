"""Runs through the API and the Models page: list and filters, detail, cancel,
retry, permissions by the run's kind, and the Cancel / Retry buttons."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from runs.models import Job, JobStatus
from tests.api.helpers import client_for

pytestmark = pytest.mark.django_db


def _run(project, kind="export", status=JobStatus.QUEUED, **fields):
    return Job.objects.create(
        project=project,
        kind=kind,
        status=status,
        task=f"tests.{kind}",
        queue="work",
        params={"format": "coco"} if kind == "export" else {},
        **fields,
    )


def test_list_is_paginated_newest_first_and_filters_by_kind_and_status(
    project_roles,
):
    project, users, _ = project_roles
    done = _run(project, status=JobStatus.SUCCEEDED)
    failed = _run(project, kind="train", status=JobStatus.FAILED, error="boom")
    queued = _run(project, kind="score")
    client = client_for(users[Role.ANNOTATION_MANAGER])
    url = reverse("api-project-runs", args=[project.pk])
    body = client.get(url).json()
    assert body["count"] == 3 and {"next", "previous"} <= set(body)
    assert [r["id"] for r in body["results"]] == [queued.pk, failed.pk, done.pk]
    assert [r["id"] for r in client.get(url, {"kind": "train"}).json()["results"]] == [
        failed.pk
    ]
    only = client.get(url, {"status": "succeeded"}).json()["results"]
    assert [r["id"] for r in only] == [done.pk]
    assert only[0]["result"] == {} and only[0]["queue"] == "work"
    bad = client.get(url, {"kind": "dance"})
    assert bad.status_code == 400 and "kind" in bad.json()
    assert client.get(url, {"status": "sleeping"}).status_code == 400


def test_detail_shows_progress_error_attempt_and_heartbeat_age(project_roles):
    from datetime import timedelta

    from django.utils import timezone

    project, users, outsider = project_roles
    job = _run(
        project,
        status=JobStatus.RUNNING,
        progress=0.25,
        message="epoch 1/4",
        heartbeat_at=timezone.now() - timedelta(seconds=30),
        result={"file": "exports/1/secret.json", "format": "coco"},
    )
    url = reverse("api-run-detail", args=[job.pk])
    data = client_for(users[Role.OWNER]).get(url).json()
    assert data["status"] == "running" and data["progress"] == 0.25
    assert data["attempt"] == 1 and data["retry_of"] is None
    assert 29 <= data["heartbeat_age_seconds"] < 120
    assert data["result"] == {"format": "coco"}  # no storage path
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(users[Role.ANNOTATOR]).get(url).status_code == 403


def test_cancel_answers_409_once_the_run_has_ended(project_roles):
    project, users, _ = project_roles
    job = _run(project, status=JobStatus.RUNNING)
    client = client_for(users[Role.ANNOTATION_MANAGER])
    url = reverse("api-run-cancel", args=[job.pk])
    first = client.post(url)
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    again = client.post(url)
    assert again.status_code == 409 and "already ended" in again.json()["detail"]


def test_retry_answers_409_unless_failed_or_cancelled_and_while_one_is_active(
    project_roles,
):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    done = _run(project, status=JobStatus.SUCCEEDED)
    assert client.post(reverse("api-run-retry", args=[done.pk])).status_code == 409
    failed = _run(project, status=JobStatus.FAILED, error="boom")
    active = _run(project)  # another export is queued
    response = client.post(reverse("api-run-retry", args=[failed.pk]))
    assert response.status_code == 409 and "already active" in response.json()["detail"]
    active.status = JobStatus.CANCELLED
    active.save()
    response = client.post(reverse("api-run-retry", args=[failed.pk]))
    assert response.status_code == 202, response.content
    new = response.json()
    assert (new["attempt"], new["retry_of"], new["status"]) == (2, failed.pk, "queued")
    assert new["params"] == {"format": "coco"}


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("train", {Role.OWNER, Role.DEVELOPER}),
        ("score", {Role.OWNER, Role.DEVELOPER}),
        ("evaluate", {Role.OWNER, Role.DEVELOPER}),
        ("export", {Role.OWNER, Role.DEVELOPER, Role.ANNOTATION_MANAGER}),
        ("import", {Role.OWNER, Role.DEVELOPER, Role.ANNOTATION_MANAGER}),
    ],
)
def test_the_kind_of_a_run_decides_who_may_cancel_and_retry_it(
    project_roles, kind, allowed
):
    project, users, outsider = project_roles
    for role, user in users.items():
        job = _run(project, kind=kind, status=JobStatus.RUNNING)
        cancel = client_for(user).post(reverse("api-run-cancel", args=[job.pk]))
        assert cancel.status_code == (200 if role in allowed else 403), (role, kind)
        job.status = JobStatus.FAILED
        job.save()
        retry = client_for(user).post(reverse("api-run-retry", args=[job.pk]))
        assert retry.status_code == (202 if role in allowed else 403), (role, kind)
        Job.objects.filter(project=project).update(status=JobStatus.FAILED)
    job = _run(project, kind=kind, status=JobStatus.FAILED)
    for verb in ("cancel", "retry"):
        url = reverse(f"api-run-{verb}", args=[job.pk])
        assert client_for(outsider).post(url).status_code == 404


def test_models_page_lists_runs_with_buttons_only_for_roles_that_may_use_them(
    client, project_roles
):
    project, users, _ = project_roles
    train = _run(project, kind="train", status=JobStatus.RUNNING, message="epoch 2/9")
    export = _run(project, status=JobStatus.FAILED, error="disk full")
    url = reverse("models_mgmt:models", args=[project.pk])
    client.force_login(users[Role.DEVELOPER])
    body = client.get(url).content.decode()
    assert f'data-testid="run-row-{train.pk}"' in body and "epoch 2/9" in body
    assert "disk full" in body
    assert f'data-testid="run-cancel-{train.pk}"' in body
    assert f'data-testid="run-retry-{export.pk}"' in body
    assert f'data-testid="run-retry-{train.pk}"' not in body  # running: no retry
    client.force_login(users[Role.ANNOTATION_MANAGER])
    body = client.get(url).content.decode()
    assert f'data-testid="run-row-{train.pk}"' in body
    assert f'data-testid="run-cancel-{train.pk}"' not in body  # training: TRAIN
    assert f'data-testid="run-retry-{export.pk}"' in body  # export: EXPORT
    overview = client.get(reverse("annotate:project-detail", args=[project.pk]))
    assert f'data-testid="active-run-{train.pk}"' in overview.content.decode()


def test_cancel_and_retry_forms_act_check_the_role_and_come_back(client, project_roles):
    project, users, outsider = project_roles
    train = _run(project, kind="train", status=JobStatus.RUNNING)
    cancel = reverse("models_mgmt:run-cancel", args=[project.pk, train.pk])
    back = reverse("annotate:project-detail", args=[project.pk])
    client.force_login(users[Role.ANNOTATION_MANAGER])
    assert client.post(cancel, {"next": back}).status_code == 403
    client.force_login(outsider)
    assert client.post(cancel).status_code == 404
    client.force_login(users[Role.DEVELOPER])
    response = client.post(cancel, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    train.refresh_from_db()
    assert train.status == JobStatus.CANCELLED
    evil = client.post(cancel, {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("models_mgmt:models", args=[project.pk])
    retry = reverse("models_mgmt:run-retry", args=[project.pk, train.pk])
    client.post(retry, follow=False)
    assert Job.objects.get(retry_of=train).status == JobStatus.QUEUED
    page = client.post(retry, follow=True).content.decode()
    assert "already retried" in page
    other = reverse("models_mgmt:run-cancel", args=[project.pk + 1000, train.pk])
    assert client.post(other).status_code == 404
