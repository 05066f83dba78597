"""The run lifecycle as services: create (one active per kind), claim, heartbeat,
finish, cancel, retry and reap, with training, scoring and exports in sync mode on
the scripted backends (tests/models_mgmt/fake_backend.py, slow_backend.py)."""

import contextlib
from datetime import timedelta

import pytest
from django.utils import timezone

from alweb.exceptions import Conflict
from annotate.services import exports
from models_mgmt.models import Evaluation, ModelStatus, ModelVersion
from models_mgmt.services import backend as backend_service
from models_mgmt.services.training import training_run, training_start
from runs.models import Job, JobStatus
from runs.services import (
    run_cancel,
    run_claim,
    run_create,
    run_finish,
    run_heartbeat,
    run_retry,
    runs_reap,
)
from runs.signals import run_finished
from tests.models_mgmt.test_triggers_and_promotion import approve
from tests.runs import slow_backend
from tests.runs.test_contention import queued_export

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(transactional_db):
    from models_mgmt.services.pipeline import pipeline_update
    from tests.factories import UserFactory, make_project

    owner = UserFactory(username="life-owner")
    project = make_project(owner, name="Life")
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


@pytest.fixture
def slow(settings):
    settings.ALWEB_ML_BACKEND = "tests.runs.slow_backend"
    backend_service.get_backend.cache_clear()
    yield slow_backend
    slow_backend.ON_START = None
    slow_backend.hold_file().unlink(missing_ok=True)
    backend_service.get_backend.cache_clear()


@contextlib.contextmanager
def queued_only():
    """Runs are queued for a cluster (none runs here) instead of run inline."""
    from django_q.conf import Conf

    Conf.SYNC = False
    try:
        yield
    finally:
        Conf.SYNC = True


def test_one_active_run_per_kind_and_project_the_database_decides(project):
    first = queued_export(project)
    with pytest.raises(Conflict, match="already active"):
        queued_export(project)
    other = run_create(project=project, kind="score", task="x.y", queue="work")
    assert other.pk != first.pk
    run_finish(first.pk, status=JobStatus.FAILED, error="x")
    assert queued_export(project).pk > other.pk


def test_claim_happens_once_and_a_redelivered_task_is_a_no_op(project, slow):
    approve(project, 8)
    with queued_only():
        version = training_start(project=project, actor=project.owner)
    job = Job.objects.get(model_version_id=version.pk)
    assert (job.task, job.queue) == ("models_mgmt.tasks.run_training", "training")
    training_run(job.pk)  # the first delivery trains
    training_run(job.pk)  # django-q2 delivers it again: nothing happens
    version.refresh_from_db()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and version.status == ModelStatus.DONE
    assert not run_claim(job.pk)
    assert not run_heartbeat(job.pk)  # a finished run tells its worker to stop
    assert Evaluation.objects.filter(model_version=version).count() == 1


def test_cancelling_a_queued_training_fails_its_version_and_the_task_then_skips(
    project, slow
):
    approve(project, 8)
    with queued_only():
        version = training_start(project=project, actor=project.owner)
    job = Job.objects.get(model_version_id=version.pk)
    seen = []
    run_finished.connect(receiver := lambda **kw: seen.append(kw), weak=False)
    try:
        run_cancel(job=job, actor=project.owner)
    finally:
        run_finished.disconnect(receiver)
    assert [(s["kind"], s["status"], s["model_version_id"]) for s in seen] == [
        ("train", "cancelled", version.pk)
    ]
    version.refresh_from_db()
    assert (version.status, version.error) == (ModelStatus.FAILED, "cancelled")
    job.refresh_from_db()
    assert (
        job.status == JobStatus.CANCELLED and job.message == "cancelled by life-owner"
    )
    with pytest.raises(Conflict, match="already ended"):
        run_cancel(job=job)
    training_run(job.pk)  # the queued task arrives later: a no-op
    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED and not version.weights


def test_a_training_cancelled_while_it_runs_stops_and_nothing_is_promoted(
    project, slow
):
    approve(project, 8)
    slow.hold_file().write_text("hold")
    slow.ON_START = lambda: run_cancel(job=Job.objects.get(kind="train"))
    version = training_start(project=project, actor=project.owner)  # runs inline
    version.refresh_from_db()
    job = Job.objects.get(model_version_id=version.pk)
    assert (job.status, job.error) == (JobStatus.CANCELLED, "cancelled")
    assert (version.status, version.error) == (ModelStatus.FAILED, "cancelled")
    assert "cancelled" in (slow.hold_file().parent / "training-stopped").read_text()
    assert not version.is_best and not version.comparisons_as_candidate.exists()


def test_retried_training_trains_the_same_frozen_version_as_a_new_attempt(
    project, slow
):
    approve(project, 8)
    slow.hold_file().write_text("hold")
    slow.ON_START = lambda: run_cancel(job=Job.objects.get(kind="train"))
    version = training_start(project=project, actor=project.owner)
    version.refresh_from_db()
    frozen = (list(version.train_item_ids), list(version.val_item_ids))
    first = Job.objects.get(model_version_id=version.pk)
    approve(project, 4, start=40)  # more ground truth since: not in the retry
    slow.ON_START = None
    slow.hold_file().unlink()
    retry = run_retry(job=first, actor=project.owner)  # runs inline (sync mode)
    retry.refresh_from_db()
    version.refresh_from_db()
    assert (retry.attempt, retry.retry_of_id, retry.kind) == (2, first.pk, "train")
    assert retry.model_version_id == version.pk
    assert retry.status == JobStatus.SUCCEEDED, retry.error
    assert version.status == ModelStatus.DONE and version.is_best and version.weights
    assert (version.train_item_ids, version.val_item_ids) == frozen
    assert ModelVersion.objects.filter(project=project, is_base=False).count() == 1
    with pytest.raises(Conflict, match="already retried"):
        run_retry(job=first)
    with pytest.raises(Conflict, match="only a failed or cancelled"):
        run_retry(job=retry)


def test_retry_is_refused_while_another_run_of_the_kind_is_active(project, slow):
    approve(project, 8)
    with queued_only():
        version = training_start(project=project, actor=project.owner)
        first = Job.objects.get(model_version_id=version.pk)
        run_cancel(job=first)
        training_start(project=project, actor=project.owner)  # a new run, queued
        with pytest.raises(Conflict, match="already active"):
            run_retry(job=first)
    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED  # the refused retry changed nothing
    assert not Job.objects.filter(retry_of=first).exists()


def test_retried_export_runs_again_with_the_same_format(project):
    approve(project, 3)
    job = queued_export(project, "yolo")
    run_finish(job.pk, status=JobStatus.FAILED, error="disk full")
    job.refresh_from_db()
    retry = run_retry(job=job, actor=project.owner)  # sync mode: runs inline
    retry.refresh_from_db()
    assert retry.status == JobStatus.SUCCEEDED, retry.error
    assert retry.params == {"format": "yolo"} and retry.result["format"] == "yolo"
    assert retry.queue == "work" and retry.attempt == 2


def test_a_cancelled_export_stops_at_its_next_heartbeat_and_offers_nothing(project):
    from django.db import connection

    approve(project, 3)
    job = queued_export(project)

    def cancel_at_first_beat(execute, sql, params, many, context):
        if sql.startswith('UPDATE "runs_job" SET "heartbeat_at"'):
            Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(cancel_at_first_beat):
        exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and "file" not in job.result


def test_reaper_fails_silent_runs_and_their_training_version_only(project, slow):
    approve(project, 8)
    with queued_only():
        version = training_start(project=project, actor=project.owner)
    job = Job.objects.get(model_version_id=version.pk)
    live = run_create(project=project, kind="score", task="x.y", queue="work")
    assert run_claim(job.pk) and run_claim(live.pk)
    old = timezone.now() - timedelta(seconds=600)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=old)
    assert runs_reap(stale_seconds=120) == [job.pk]
    assert runs_reap(stale_seconds=120) == []  # once
    job.refresh_from_db()
    version.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no heartbeat for 120 s" in job.error
    assert version.status == ModelStatus.FAILED and "no heartbeat" in version.error
    assert Job.objects.get(pk=live.pk).status == JobStatus.RUNNING
