"""Triggers (every N approved, KPI, cron schedule), comparison and promotion, roll
back through the API, with a scripted fast backend (see fake_backend.py)."""

import pytest
from django_q.models import Schedule
from rest_framework.test import APIClient

from annotate.demo_data import synthetic_image
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from models_mgmt.models import Comparison, ModelVersion
from models_mgmt.services import backend as backend_service
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from models_mgmt.services.triggers import kpi_check
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt import fake_backend


@pytest.fixture
def fake(settings):
    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.fake_backend"
    backend_service.get_backend.cache_clear()
    fake_backend.METRICS = {
        "map50": 0.5,
        "map50_95": 0.3,
        "precision": 0.5,
        "recall": 0.5,
    }
    fake_backend.SCORES.clear()
    yield fake_backend
    backend_service.get_backend.cache_clear()


@pytest.fixture
def project(transactional_db):
    owner = UserFactory(username="trig-owner")
    project = make_project(owner, name="Triggers")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "split": {"train": 0.5, "val": 0.25, "test": 0.25, "seed": 3},
            # A few test items on purpose: the quality gate has its own tests.
            "comparison_config": {"min_test_items": 1},
        },
    )
    project.owner = owner
    return project


def approve(project, n, start=0):
    items = make_items(project, n, start_seed=start)
    for item in items:
        shapes = synthetic_image(start, 96, 72).shapes
        annotations_replace(
            item=item,
            shapes=shapes_validate(item=item, shapes=shapes),
            author=project.owner,
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    return items


def test_every_n_approved_starts_training_once_enough_items_arrive(fake, project):
    pipeline_update(
        project=project, actor=project.owner, data={"triggers": {"every_n_approved": 6}}
    )
    approve(project, 4)
    assert not ModelVersion.objects.filter(project=project).exists()
    approve(project, 2, start=10)
    version = ModelVersion.objects.get(project=project)
    assert version.status == "done" and version.is_best
    assert (
        "every 6 approved" in version.project.jobs.get(kind="train").params["trigger"]
    )


def test_better_candidate_is_promoted_worse_is_not_and_rollback_works(fake, project):
    approve(project, 8)
    fake.METRICS = {"map50": 0.5, "map50_95": 0.30, "precision": 0.5, "recall": 0.5}
    v1 = training_start(project=project, actor=project.owner)
    v1.refresh_from_db()
    assert v1.is_best
    fake.METRICS = {"map50": 0.7, "map50_95": 0.45, "precision": 0.6, "recall": 0.6}
    v2 = training_start(project=project, actor=project.owner)
    v2.refresh_from_db()
    assert v2.is_best and v2.parent_id == v1.pk
    better = Comparison.objects.get(candidate=v2)
    assert (better.winner, better.promoted, better.incumbent_id) == (
        "candidate",
        True,
        v1.pk,
    )
    fake.METRICS = {"map50": 0.1, "map50_95": 0.05, "precision": 0.1, "recall": 0.1}
    v3 = training_start(project=project, actor=project.owner)
    v3.refresh_from_db()
    worse = Comparison.objects.get(candidate=v3)
    assert (worse.winner, worse.promoted) == ("incumbent", False)
    assert ModelVersion.objects.get(project=project, is_best=True) == v2

    # Manual roll back to v1 through the API; the pool is re-scored with it.
    client = APIClient()
    client.force_authenticate(project.owner)
    response = client.post(f"/api/v1/models/{v1.pk}/promote/")
    assert response.status_code == 200 and response.json()["is_best"]
    assert ModelVersion.objects.get(project=project, is_best=True) == v1
    listing = client.get(f"/api/v1/projects/{project.pk}/models/").json()["results"]
    assert [m["name"] for m in listing] == ["v3", "v2", "v1"]
    assert (
        client.get(f"/api/v1/projects/{project.pk}/comparisons/").json()["count"] == 3
    )


def test_train_api_answers_409_without_train_items_and_while_training(fake, project):
    client = APIClient()
    client.force_authenticate(project.owner)
    assert client.post(f"/api/v1/projects/{project.pk}/train/").status_code == 409
    approve(project, 8)
    from django_q.conf import Conf

    Conf.SYNC = False  # leave the first run queued (no cluster in this test)
    try:
        first = client.post(f"/api/v1/projects/{project.pk}/train/")
        assert first.status_code == 202
        again = client.post(f"/api/v1/projects/{project.pk}/train/")
        assert again.status_code == 409
        assert ModelVersion.objects.filter(project=project, is_base=False).count() == 1
    finally:
        Conf.SYNC = True


def test_kpi_check_trains_when_the_best_model_falls_below_target(fake, project):
    approve(project, 8)
    training_start(project=project, actor=project.owner)
    pipeline_update(
        project=project,
        actor=project.owner,
        data={"triggers": {"kpi": {"metric": "map50", "target": 0.6, "min_items": 3}}},
    )
    approve(project, 3, start=20)  # fresh items: the KPI check runs (sync mode)
    assert ModelVersion.objects.filter(project=project, is_base=False).count() == 2
    fake.SCORES.clear()
    fake.METRICS = {"map50": 0.9, "map50_95": 0.6, "precision": 0.9, "recall": 0.9}
    approve(project, 3, start=30)
    # The best model now meets the target on fresh items: no further training.
    assert kpi_check(project=project) is None


def test_cron_trigger_keeps_one_schedule_in_step(fake, project):
    pipeline_update(
        project=project, actor=project.owner, data={"triggers": {"cron": "0 3 * * *"}}
    )
    schedule = Schedule.objects.get(name=f"alweb-train-project-{project.pk}")
    assert (schedule.cron, schedule.func) == (
        "0 3 * * *",
        "models_mgmt.tasks.cron_train",
    )
    pipeline_update(
        project=project,
        actor=project.owner,
        data={"triggers": {"cron": "*/30 * * * *"}},
    )
    assert Schedule.objects.get(name=schedule.name).cron == "*/30 * * * *"
    pipeline_update(
        project=project, actor=project.owner, data={"triggers": {"cron": ""}}
    )
    assert not Schedule.objects.filter(name=schedule.name).exists()


def test_a_due_cron_schedule_starts_training_with_trigger_cron(fake, project):
    from datetime import timedelta

    from django.utils import timezone
    from django_q.scheduler import scheduler

    approve(project, 8)
    assert not ModelVersion.objects.filter(project=project, is_base=False).exists()
    pipeline_update(
        project=project, actor=project.owner, data={"triggers": {"cron": "0 3 * * *"}}
    )
    schedule = Schedule.objects.get(name=f"alweb-train-project-{project.pk}")
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run=timezone.now() - timedelta(minutes=1)
    )

    scheduler()  # what the qcluster's scheduler does each tick (sync mode here)

    version = ModelVersion.objects.get(project=project, is_base=False)
    job = project.jobs.get(kind="train", model_version_id=version.pk)
    assert job.params["trigger"] == "cron"
    assert version.status == "done"  # the fake backend trained it inline
    schedule.refresh_from_db()
    assert schedule.task and schedule.next_run > timezone.now()
    scheduler()  # not due again: nothing new starts
    assert ModelVersion.objects.filter(project=project, is_base=False).count() == 1
