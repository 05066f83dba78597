"""The pipeline page: both flows as nodes with their counts and last runs, and
the training triggers with when each fires next."""

import pytest
from django.urls import reverse

from models_mgmt.services.pipeline import pipeline_update
from runs.models import Job
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt.test_version_pages import _version

pytestmark = pytest.mark.django_db


def _node(body: str, key: str) -> str:
    return body.split(f'data-testid="node-{key}"')[1].split("</li>")[0]


def test_pipeline_page_shows_counts_runs_and_the_best_model(client):
    owner = UserFactory(username="pipe-owner")
    project = make_project(owner, name="Pipe")
    make_items(project, 3)
    v1 = _version(project, 1)
    from models_mgmt.services.versions import model_version_promote

    model_version_promote(version=v1, actor=owner)
    for status in ("failed", "succeeded"):  # the newest score run is shown
        Job.objects.create(
            project=project, kind="score", status=status, task="x", queue="work"
        )
    client.force_login(owner)
    body = client.get(reverse("models_mgmt:pipeline", args=[project.pk])).content
    body = body.decode()
    assert "<dd>3</dd>" in _node(body, "ingest")
    predict = _node(body, "predict")
    assert "Scoring" in predict and "Succeeded" in predict and "v1" in predict
    assert "<dd>3</dd>" in _node(body, "label")
    assert "v1" in _node(body, "promote") and "v1" in _node(body, "create")
    assert 'data-testid="tab-pipeline"' in body


def test_triggers_say_when_they_fire_next(client):
    owner = UserFactory(username="pipe-owner2")
    project = make_project(owner, name="Pipe2")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "triggers": {
                "every_n_approved": 5,
                "cron": "0 3 * * *",
                "kpi": {"metric": "map50", "target": 0.5, "min_items": 4},
            }
        },
    )
    client.force_login(owner)
    body = client.get(reverse("models_mgmt:pipeline", args=[project.pk])).content
    table = body.decode().split('data-testid="triggers"')[1].split("</table>")[0]
    assert "every 5 approved items" in table and "after 5 more approvals" in table
    assert "0 3 * * *" in table and "next at " in table
    assert "map50 below 0.5" in table and "checked after 4 more approvals" in table
    assert "(once a best model exists)" in table
