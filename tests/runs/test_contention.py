"""Heartbeats and finishing under SQLite contention (issue 8, "Runs stick").

A connection that holds a read snapshot (an open cursor) and then writes after
another connection has committed gets "database is locked" at once, whatever the
busy timeout (STACK_NOTES.md). These tests make a second, real connection commit
right before every heartbeat of a real export run.
"""

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from annotate.models import Item
from annotate.services import exports
from runs.models import Job, JobStatus
from runs.services import run_claim, run_create, run_finish, run_heartbeat, runs_reap
from tests.factories import UserFactory, bare_item_rows, make_project
from tests.sqlite_helpers import hold_write_lock, other_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _ground_truth_rows(project, n):
    """n done items (no image files: a COCO export never opens them, a YOLO export
    counts them missing) with one box each."""
    from annotate.models import Annotation

    items = Item.objects.bulk_create(
        bare_item_rows(
            project, n, size=(10, 10), name="{}.png", status="done", split="train"
        )
    )
    Annotation.objects.bulk_create(
        Annotation(
            item=item,
            kind="box",
            label=project.labels[0],
            geometry={"bbox": [1, 1, 2, 2]},
        )
        for item in items
    )


def queued_export(project, fmt="coco") -> Job:
    """A queued export run, not sent to a worker (the test runs it)."""
    return run_create(
        project=project,
        kind="export",
        task="annotate.tasks.export_run",
        queue="work",
        params={"format": fmt},
    )


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_export_heartbeats_survive_commits_of_other_connections(fmt):
    project = make_project(UserFactory(username="contention"), name="Contention")
    _ground_truth_rows(project, 2 * exports.ITEM_CHUNK + 100)
    job = queued_export(project, fmt)
    other = other_connection()
    beats = []

    def commit_before_each_heartbeat(execute, sql, params, many, context):
        if sql.startswith('UPDATE "runs_job" SET "heartbeat_at"'):
            beats.append(sql)
            other.execute("UPDATE annotate_project SET description = ?", (sql[:9],))
            other.commit()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(commit_before_each_heartbeat):
        exports.export_job_run(job_id=job.pk)
    other.close()
    job.refresh_from_db()
    assert len(beats) >= 3  # one per chunk of items at least
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.result["format"] == fmt


@pytest.fixture
def no_busy_wait():
    """This connection gives up at once on a held lock (as it does after its 20 s
    busy timeout), so that the tests need not wait 20 s for each attempt."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    yield
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 20000")


def _running_export():
    project = make_project(UserFactory(username="busy"), name="Busy")
    job = queued_export(project)
    assert run_claim(job.pk)
    return job


def test_heartbeat_and_finish_retry_while_another_connection_holds_the_lock(
    no_busy_wait,
):
    job = _running_export()
    thread = hold_write_lock(0.4)
    assert run_heartbeat(job.pk, progress=0.5)  # waited for the lock, then wrote
    thread.join()
    thread = hold_write_lock(0.4)
    assert run_finish(job.pk, status=JobStatus.SUCCEEDED, result={"format": "coco"})
    thread.join()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 1.0


def test_a_run_whose_finish_never_gets_through_is_reaped(no_busy_wait, settings):
    settings.ALWEB_DB_BUSY_RETRIES = 2
    job = _running_export()
    thread = hold_write_lock(1.0)
    with pytest.raises(OperationalError, match="locked"):
        run_finish(job.pk, status=JobStatus.SUCCEEDED)
    thread.join()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # the worker could not say it ended...
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timezone.timedelta(seconds=300)
    )
    assert runs_reap(stale_seconds=120) == [job.pk]  # ...the reaper does
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no heartbeat" in job.error


def test_a_beat_that_stays_busy_is_skipped_not_fatal(no_busy_wait, settings):
    settings.ALWEB_DB_BUSY_RETRIES = 2
    job = _running_export()
    thread = hold_write_lock(1.0)
    assert run_heartbeat(job.pk, progress=0.3) is True  # keep going
    thread.join()
    assert run_heartbeat(job.pk, progress=0.4)
    job.refresh_from_db()
    assert job.progress == 0.4
