"""A model promoted while a scoring run goes on gets the pool scored with it.

The promotion's own scoring request finds that run active and adds none, so the
run itself goes on with the new best model. Found by the loop on Redis
(test_loop_redis.py): the cold-start scoring of a new pool was still running
when the first trained model was promoted, and the pool kept no model's scores.
"""

import pytest
from django.core.files.base import ContentFile

from annotate.models import Item
from models_mgmt.models import ModelStatus, ModelVersion
from models_mgmt.services.scoring import scoring_run
from models_mgmt.services.versions import model_version_promote
from runs.models import Job, JobStatus
from runs.services import run_create
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt.test_triggers_and_promotion import fake  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _version(project, number: int) -> ModelVersion:
    version = ModelVersion(
        project=project,
        number=number,
        name=f"v{number}",
        status=ModelStatus.DONE,
        architecture="yolov8n.yaml",
        config={"architecture": "yolov8n.yaml"},
    )
    version.weights.save(f"v{number}.pt", ContentFile(b"\x80weights"), save=False)
    version.save()
    return version


def test_a_model_promoted_during_a_scoring_run_scores_the_pool(fake):  # noqa: F811
    project = make_project(UserFactory(username="score-owner"), name="Scoring")
    pool = make_items(project, 5)
    first, second = _version(project, 1), _version(project, 2)
    ModelVersion.objects.filter(pk=first.pk).update(is_best=True)
    job = run_create(
        project=project,
        kind="score",
        task="models_mgmt.tasks.run_scoring",
        queue="work",
    )

    def promote_once():
        fake.ON_SCORE = None
        model_version_promote(version=second, actor=None)

    fake.ON_SCORE = promote_once  # once the run streams its first page
    try:
        scoring_run(job.pk)
    finally:
        fake.ON_SCORE = None
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    assert ModelVersion.objects.get(is_best=True, project=project) == second
    scored = Item.objects.filter(pk__in=[i.pk for i in pool])
    assert set(scored.values_list("scored_by", flat=True)) == {second.pk}
    # No second run was needed (nor made): this one did it.
    assert Job.objects.filter(project=project, kind="score", pk__gt=job.pk).count() == 0
