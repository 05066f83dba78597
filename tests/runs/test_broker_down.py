"""A run requested while the task broker is unreachable (Redis killed): the
request still answers (no 500) and the run ends failed with the reason, so it
can be retried, never left "queued" forever with nothing to run it. The broker
is a real Redis client pointed at a loopback port nothing listens on."""

import socket

import pytest
from django_q.conf import Conf

from runs.models import Job, JobStatus
from tests.api.helpers import client_for
from tests.factories import UserFactory, make_items, make_project

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    with socket.socket() as sock:  # a free port, closed again: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{port}/0")


@pytest.mark.usefixtures("broker_down")
def test_a_run_requested_while_the_broker_is_down_fails_with_the_reason(settings):
    settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = -1  # every export in the background
    owner = UserFactory()
    project = make_project(owner, name="Broker down")
    make_items(project, 3)
    client = client_for(owner)

    r = client.get(f"/api/v1/projects/{project.pk}/export/", {"format": "yolo"})

    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.json()["job"])
    assert job.status == JobStatus.FAILED
    assert "could not send the run to its queue" in job.error
    assert "ConnectionError" in job.error
    shown = client.get(f"/api/v1/runs/{job.pk}/").json()
    assert (shown["status"], shown["error"]) == ("failed", job.error)
    # Failed, not stuck: it can be retried (again refused by the broker here).
    retry = client.post(f"/api/v1/runs/{job.pk}/retry/")
    assert retry.status_code == 202
    assert Job.objects.get(pk=retry.json()["id"]).status == JobStatus.FAILED
