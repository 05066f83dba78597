"""Multi-machine mode, end to end: PostgreSQL, the Redis broker and two real
qcluster processes (the training queue and the work queue), with the scripted
fast backend (tests/models_mgmt/fake_backend.py) standing in for ultralytics.

Ground truth -> training on the training queue -> evaluation, comparison and
promotion -> the pool scored on the work queue (priorities, pre-annotations) ->
an annotator claims the top item and submits, a reviewer approves -> a
background export on the work queue. Nothing goes through the ORM broker.
Run by `make test` (scripts/test.sh: `-m redis`, with DATABASE_URL and
REDIS_URL); skipped without REDIS_URL elsewhere."""

import io
import zipfile

import pytest
from django.db import connection
from django_q.brokers import get_broker
from django_q.models import OrmQ

from alweb.roles import Role
from annotate.models import AnnotationSource, Item, ItemStatus
from models_mgmt.models import Comparison, Evaluation, ModelStatus
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from runs.models import Job, JobStatus
from tests.api.helpers import client_for
from tests.conftest import engine_missing
from tests.factories import UserFactory, add_member, make_items, make_project
from tests.models_mgmt.test_triggers_and_promotion import approve, fake  # noqa: F401
from tests.runs import qclusters
from tests.runs.test_lifecycle import queued_only
from tests.runs.test_queues import result_clusters

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
BACKEND = "tests.models_mgmt.fake_backend"


def _pool_scored(project, pool, version) -> bool:
    """Every pool item scored by `version`, and no scoring run left running."""
    items = Item.objects.filter(pk__in=[i.pk for i in pool])
    return not items.exclude(scored_by=version.pk).exists() and not (
        Job.objects.filter(
            project=project,
            kind="score",
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        ).exists()
    )


def _wait(predicate, timeout: float, what: str):
    """qclusters.wait_for, with both clusters' logs as they are at the timeout."""
    try:
        return qclusters.wait_for(predicate, timeout, what)
    except AssertionError as exc:
        logs = {name: qclusters.log_tail(name) for name in ("training", "work")}
        raise AssertionError(
            f"{exc}\n" + "\n".join(f"{n} log:\n{t}" for n, t in logs.items())
        ) from None


def _ended(job_filter, what: str, timeout: float = 60) -> Job:
    return _wait(
        lambda: Job.objects.filter(
            status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], **job_filter
        ).first(),
        timeout,
        what,
    )


@pytest.mark.usefixtures("fake")
def test_the_loop_runs_on_postgresql_with_redis_and_two_qclusters(settings):
    if connection.vendor != "postgresql":
        engine_missing("the multi-machine loop runs on PostgreSQL (DATABASE_URL)")
    broker = get_broker("training")
    assert type(broker).__name__ == "Redis" and broker.ping()
    owner = UserFactory(username="redis-owner")
    project = make_project(owner, name="Redis loop")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "split": {"train": 0.5, "val": 0.25, "test": 0.25, "seed": 3},
            # Two test items: the quality gate's minimum goes down with them.
            "comparison_config": {"min_test_items": 1},
        },
    )
    project.owner = owner
    annotator = add_member(project, Role.ANNOTATOR, UserFactory(username="redis-ann"))
    reviewer = add_member(project, Role.REVIEWER, UserFactory(username="redis-rev"))
    approve(project, 8)
    with queued_only():  # the pool's cold-start scoring goes to the work queue
        pool = make_items(project, 6, start_seed=100)
    procs = qclusters.start(queues=("training", "work"), ALWEB_ML_BACKEND=BACKEND)
    try:
        with queued_only():
            version = training_start(project=project, actor=owner)
        train = _ended({"model_version_id": version.pk, "kind": "train"}, "training")
        assert train.status == JobStatus.SUCCEEDED, train.error
        version.refresh_from_db()
        assert version.status == ModelStatus.DONE and version.is_best
        assert Evaluation.objects.filter(model_version=version).exists()
        assert Comparison.objects.get(candidate=version).promoted

        # The promotion re-scores the pool on the work queue (its own run, or
        # the cold-start run still going on moves on to the new model).
        _wait(lambda: _pool_scored(project, pool, version), 60, "the pool's scores")
        scores = Job.objects.filter(project=project, kind="score")
        assert {j.status for j in scores} == {JobStatus.SUCCEEDED}
        scored = Item.objects.filter(pk__in=[i.pk for i in pool])
        assert {a.source for i in scored for a in i.annotations.all()} == {
            AnnotationSource.MODEL
        }

        # Label and review through the API, as the pages do.
        claim = client_for(annotator).post(
            f"/api/v1/projects/{project.pk}/tasks/next/",
            {"kind": "label"},
            format="json",
        )
        assert claim.status_code == 200, claim.content
        task = claim.json()
        top = max(scored, key=lambda i: (i.priority, -i.pk))
        assert task["item"]["id"] == top.pk
        assert {a["source"] for a in task["annotations"]} == {f"model:{version.pk}"}
        shapes = [{"kind": "box", "label": "circle", "bbox": [2, 2, 20, 20]}]
        submit = client_for(annotator).post(
            f"/api/v1/tasks/{task['id']}/submit/",
            {"annotations": shapes},
            format="json",
        )
        assert submit.status_code == 200, submit.content
        review = client_for(reviewer).post(
            f"/api/v1/projects/{project.pk}/tasks/next/",
            {"kind": "review"},
            format="json",
        )
        assert review.status_code == 200 and review.json()["item"]["id"] == top.pk
        approved = client_for(reviewer).post(
            f"/api/v1/tasks/{review.json()['id']}/approve/", {}, format="json"
        )
        assert approved.status_code == 200, approved.content
        top.refresh_from_db()
        assert top.status == ItemStatus.DONE and top.split in {"train", "val", "test"}

        # A background export on the work queue.
        settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = 1
        with queued_only():
            started = client_for(owner).get(
                f"/api/v1/projects/{project.pk}/export/?format=yolo"
            )
        assert started.status_code == 202, started.content
        export = _ended({"pk": started.json()["job"]}, "the export")
        assert export.status == JobStatus.SUCCEEDED, export.error
        download = client_for(owner).get(
            f"/api/v1/projects/{project.pk}/export/jobs/{export.pk}/download"
        )
        assert download.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
        assert "data.yaml" in archive.namelist()
        assert sum(n.startswith("labels/") for n in archive.namelist()) == 9

        # Every task went through Redis to the cluster of its queue.
        names = [f"train-{train.pk}", f"export-{export.pk}"]
        results = _wait(lambda: result_clusters(names), 20, "the result rows")
        assert results == {
            f"train-{train.pk}": "training",
            f"export-{export.pk}": "work",
        }
        assert not OrmQ.objects.exists()
        assert not Job.objects.filter(
            project=project, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).exists()
        assert version.metrics["map50"] == 0.5
    finally:
        qclusters.stop(procs)
