"""Training on an accelerator goes to the gpu queue, which only GPU hosts serve:
a gpu qcluster refuses to start where torch sees no accelerator."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml.backends.ultralytics.devices import accelerator
from models_mgmt.models import ModelVersion
from models_mgmt.services.backend import gpu_worker_problem
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from runs import queues
from runs.models import Job
from tests.factories import UserFactory, make_project
from tests.models_mgmt.test_triggers_and_promotion import approve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("device", "queue"),
    [("cpu", "training"), ("CPU", "training"), ("cuda", "gpu"), ("cuda:1", "gpu"),
     ("0,1", "gpu"), ("mps", "gpu")],
)  # fmt: skip
def test_the_device_chooses_the_training_queue(device, queue):
    assert queues.training_queue(device) == queue


@pytest.mark.django_db
@pytest.mark.parametrize(("device", "queue"), [("cpu", "training"), ("cuda:0", "gpu")])
def test_a_training_run_is_queued_where_its_device_is(settings, device, queue):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    owner = UserFactory(username=f"gpu-owner-{queue}")
    project = make_project(owner, name="GPU")
    project.owner = owner
    pipeline_update(
        project=project, actor=owner, data={"model_config": {"device": device}}
    )
    approve(project, 4)
    version = training_start(project=project, actor=owner)
    job = Job.objects.get(model_version_id=version.pk)
    assert (job.queue, job.status) == (queue, "queued")
    assert ModelVersion.objects.get(pk=version.pk).config["device"] == device


def test_only_the_gpu_queue_asks_for_an_accelerator():
    assert gpu_worker_problem("training", accelerator=lambda: None) is None
    assert gpu_worker_problem("alweb", accelerator=lambda: None) is None
    assert gpu_worker_problem("gpu", accelerator=lambda: "cuda") is None
    assert "torch sees none" in gpu_worker_problem("gpu", accelerator=lambda: None)


@pytest.mark.skipif(accelerator() is not None, reason="this host has a GPU")
def test_a_gpu_qcluster_refuses_to_start_without_a_gpu(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALWEB_")}
    env.update(
        Q_CLUSTER_NAME="gpu",
        ALWEB_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="alweb.settings",
    )
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "the gpu queue trains on an accelerator" in result.stderr
