"""A real qcluster process: training through it, and SIGKILL mid-training."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from models_mgmt.models import ModelStatus, ModelVersion
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from runs.models import Job
from runs.services import runs_reap as reap
from tests.factories import UserFactory, make_project
from tests.models_mgmt.test_loop_real import TINY, _ground_truth
from tests.runs import qclusters

ROOT = Path(__file__).resolve().parents[2]


def _start_cluster(name="training"):
    env = {
        **os.environ,
        "Q_CLUSTER_NAME": name,  # training runs on the training queue
        "DJANGO_SETTINGS_MODULE": "alweb.settings_test",
        "ALWEB_Q_SYNC": "0",
        "ALWEB_VAR_DIR": str(settings.VAR_DIR),
        **qclusters.database_env(),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(proc, sig=signal.SIGTERM):
    # SIGTERM to the qcluster process only (its sentinel stops the workers; a
    # SIGTERM to the whole group leaves it waiting); SIGKILL to the whole group.
    try:
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_run_is_reaped_and_a_new_run_succeeds(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    owner = UserFactory(username="worker-owner")
    project = make_project(owner, name="Worker", kinds=["box", "polygon"])
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "model_config": {**TINY, "epochs": 200},
            "split": {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1},
            # Plumbing, not quality: a 1-epoch model scores below the floor.
            "comparison_config": {"min_score": 0.0, "min_test_items": 1},
        },
    )
    _ground_truth(project, owner, 14)

    # Queue the run with no cluster: it shows queued, not running.
    from django_q.conf import Conf

    Conf.SYNC = False
    try:
        version = training_start(project=project, actor=owner)
        job = Job.objects.get(model_version_id=version.pk)
        assert job.status == "queued"
        cluster = _start_cluster()
        try:
            _wait(
                lambda: ModelVersion.objects.get(pk=version.pk).epoch >= 1,
                120,
                "the first epoch in the worker",
            )
        finally:
            _stop(cluster, signal.SIGKILL)  # the whole cluster dies mid-training
        job.refresh_from_db()
        assert job.status == "running"
        time.sleep(3)
        assert reap(stale_seconds=2) == [job.pk]
        job.refresh_from_db()
        version.refresh_from_db()
        assert job.status == "failed" and "heartbeat" in job.error
        assert version.status == ModelStatus.FAILED

        # A new run (retry) through a fresh real worker succeeds.
        pipeline_update(project=project, actor=owner, data={"model_config": TINY})
        retry = training_start(project=project, actor=owner)
        cluster = _start_cluster()
        try:
            _wait(
                lambda: (
                    ModelVersion.objects.get(pk=retry.pk).status
                    in (ModelStatus.DONE, ModelStatus.FAILED)
                ),
                240,
                "the retry to finish",
            )
        finally:
            _stop(cluster)
        retry.refresh_from_db()
        assert retry.status == ModelStatus.DONE, retry.error
        assert retry.is_best and retry.weights
    finally:
        Conf.SYNC = True
