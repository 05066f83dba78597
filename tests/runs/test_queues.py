"""Real qcluster processes, one per queue: a long training cannot starve the
reaper or the work queue; a running training stops within seconds when
cancelled, and its retry runs the same version through the training queue."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from alweb.checks import q_cluster_problems
from annotate.services import exports
from models_mgmt.models import ModelStatus, ModelVersion
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from runs.models import Job, JobStatus
from tests.api.helpers import client_for
from tests.factories import UserFactory, make_project
from tests.models_mgmt.test_triggers_and_promotion import approve
from tests.runs import qclusters
from tests.runs.test_lifecycle import queued_only


def result_clusters(names: list[str]) -> dict[str, str] | None:
    """{task name: cluster} of django-q2's result rows, once all of them exist."""
    rows = dict(Task.objects.filter(name__in=names).values_list("name", "cluster"))
    return rows if len(rows) == len(names) else None


def test_every_cluster_checks_retry_against_its_own_timeout(settings):
    assert q_cluster_problems() == []
    assert settings.ALWEB_Q_NICE == {"alweb": 0, "training": 10, "work": 10, "gpu": 10}
    alt = settings.Q_CLUSTER["ALT_CLUSTERS"]
    assert set(alt) == {"training", "work", "gpu"}
    for conf in (settings.Q_CLUSTER, *alt.values()):
        assert conf["retry"] > conf["timeout"]
    settings.Q_CLUSTER = {
        **settings.Q_CLUSTER,
        "ALT_CLUSTERS": {**alt, "training": {"timeout": 900, "retry": 600}},
    }
    assert q_cluster_problems() == [
        "Q_CLUSTER cluster 'training' retry (600) must exceed timeout (900)"
    ]
    settings.ALWEB_Q_NICE = {"alweb": 0, "work": 20, "training": -1, "gpu": "x"}
    assert q_cluster_problems() == [
        "Q_CLUSTER cluster 'training' retry (600) must exceed timeout (900)",
        *(
            f"ALWEB_Q_NICE[{name!r}] must be a whole number from 0 to 19, not {bad!r}"
            for name, bad in (("work", 20), ("training", -1), ("gpu", "x"))
        ),
    ]
    settings.ALWEB_Q_NICE = {"alweb": 0, "work": 19}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False, "ALT_CLUSTERS": {}}
    assert "lacks the queues training, work, gpu" in q_cluster_problems()[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_long_training_starves_neither_the_reaper_nor_the_work_queue():
    owner = UserFactory(username="queues-owner")
    project = make_project(owner, name="Queues")
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
    approve(project, 8)
    var = Path(settings.VAR_DIR)
    (var / "hold-training").write_text("hold")
    for name in ("training-started", "training-stopped"):
        (var / name).unlink(missing_ok=True)
    Schedule.objects.update_or_create(
        name="alweb-reaper",
        defaults={
            "func": "runs.tasks.reap",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    dead = Job.objects.create(  # a run whose worker died ten minutes ago
        project=project,
        kind="score",
        status=JobStatus.RUNNING,
        task="models_mgmt.tasks.run_scoring",
        queue="work",
        started_at=timezone.now() - timedelta(minutes=11),
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    with queued_only():
        version = training_start(project=project, actor=owner)
    training = Job.objects.get(model_version_id=version.pk)
    procs = qclusters.start(ALWEB_ML_BACKEND="tests.runs.slow_backend")
    try:
        started = qclusters.wait_for(
            lambda: (var / "training-started").exists(), 60, "training to start"
        )
        assert started
        with queued_only():
            export = exports.export_start(project=project, actor=owner, fmt="coco")
        qclusters.wait_for(
            lambda: Job.objects.get(pk=export.pk).status == JobStatus.SUCCEEDED,
            30,
            "the export on the work queue",
        )
        # The default cluster runs its scheduler 30 s after it starts: the reaper
        # runs then, while the only training worker is still busy.
        qclusters.wait_for(
            lambda: Job.objects.get(pk=dead.pk).status == JobStatus.FAILED,
            50,
            "the reaper\n" + qclusters.log_tail("alweb"),
        )
        # django-q2's monitor saves the task's result a moment after it ran.
        reap_task = qclusters.wait_for(
            lambda: (
                Task.objects.filter(func="runs.tasks.reap").order_by("-stopped").first()
            ),
            20,
            "the reaper's result row",
        )
        assert reap_task.success and dead.pk in reap_task.result
        assert Job.objects.get(pk=training.pk).status == JobStatus.RUNNING
        assert not (var / "training-stopped").exists()

        cancelled_at = time.monotonic()
        client = client_for(owner)
        with queued_only():
            response = client.post(f"/api/v1/runs/{training.pk}/cancel/")
        assert response.status_code == 200, response.content
        stopped = qclusters.wait_for(
            lambda: (
                (var / "training-stopped").exists()
                and (var / "training-stopped").read_text()
            ),
            10,
            "the worker to stop",
        )
        assert stopped.startswith("cancelled")
        assert time.monotonic() - cancelled_at < 10
        version.refresh_from_db()
        assert (version.status, version.error) == (ModelStatus.FAILED, "cancelled")

        (var / "hold-training").unlink()
        with queued_only():  # for the training cluster, not inline
            response = client.post(f"/api/v1/runs/{training.pk}/retry/")
        assert response.status_code == 202, response.content
        retry_id = response.json()["id"]
        qclusters.wait_for(
            lambda: Job.objects.get(pk=retry_id).status in (JobStatus.SUCCEEDED,),
            30,
            "the retried training\n" + qclusters.log_tail("training"),
        )
        version.refresh_from_db()
        assert version.status == ModelStatus.DONE and version.is_best
        assert ModelVersion.objects.filter(project=project, is_base=False).count() == 1
        # The monitor saves the retry's result row a moment after the run ended.
        names = [f"train-{training.pk}", f"train-{retry_id}"]
        clusters = qclusters.wait_for(
            lambda: result_clusters(names), 20, "the result rows of both trainings"
        )
        assert clusters == {
            f"train-{training.pk}": "training",
            f"train-{retry_id}": "training",
        }
        assert Task.objects.get(name=f"export-{export.pk}").cluster == "work"

        # Each cluster's workers run at the CPU priority ALWEB_Q_NICE gives it
        # (never below what they inherited from this process).
        inherited = os.getpriority(os.PRIO_PROCESS, 0)
        with queued_only():
            for name in qclusters.QUEUES:
                async_task(
                    "os.getpriority",
                    os.PRIO_PROCESS,
                    0,
                    task_name=f"nice-{name}",
                    cluster=None if name == "alweb" else name,
                )
        names = [f"nice-{name}" for name in qclusters.QUEUES]
        qclusters.wait_for(
            lambda: result_clusters(names), 20, "the workers' nice values"
        )
        nice = dict(
            Task.objects.filter(name__in=names).values_list("cluster", "result")
        )
        assert nice == {
            name: max(inherited, settings.ALWEB_Q_NICE[name])
            for name in qclusters.QUEUES
        }
    finally:
        (var / "hold-training").unlink(missing_ok=True)
        qclusters.stop(procs)
