"""The whole lower and upper flow with real ultralytics, offline, in sync mode."""

import pytest

from annotate.demo_data import synthetic_image
from annotate.models import Annotation, AnnotationSource, Item, ItemStatus
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from annotate.services.pipeline import pipeline_update
from models_mgmt.models import Comparison, Evaluation, ModelStatus, ModelVersion
from models_mgmt.services.training import training_start
from runs.models import Job
from tests.factories import UserFactory, make_items, make_project

TINY = {
    "architecture": "yolov8n.yaml",
    "epochs": 1,
    "imgsz": 64,
    "batch": 8,
    "conf": 0.001,
}


def _ground_truth(project, user, n):
    items = make_items(project, n, size=(96, 96))
    for i, item in enumerate(items[: n - 4]):
        shapes = synthetic_image(i, 96, 96).shapes
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=user
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items[: n - 4]])
    return items


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_train_evaluate_promote_and_rescore_offline(no_network):
    owner = UserFactory(username="loop-owner")
    project = make_project(owner, name="Loop", kinds=["box", "polygon"])
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "model_config": TINY,
            "split": {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1},
        },
    )
    _ground_truth(project, owner, 16)
    assert Item.objects.filter(project=project, split="train").exists()

    version = training_start(project=project, actor=owner)  # sync mode: runs inline

    version.refresh_from_db()
    job = Job.objects.get(model_version_id=version.pk, kind="train")
    assert job.status == "succeeded", (job.error, version.error)
    assert version.status == ModelStatus.DONE and version.weights
    assert version.epoch == 1 and version.progress == 1.0
    assert set(version.train_item_ids) == set(
        Item.objects.filter(project=project, split="train").values_list("pk", flat=True)
    )
    evaluation = Evaluation.objects.get(model_version=version)
    assert {"map50", "map50_95", "precision", "recall", "per_class"} <= set(
        evaluation.metrics
    )
    comparison = Comparison.objects.get(candidate=version)
    # No incumbent: the first trained version wins and becomes best.
    assert comparison.winner == "candidate" and comparison.promoted
    assert ModelVersion.objects.get(project=project, is_best=True) == version

    # Promotion re-scored the unlabelled pool with the new best model.
    unlabeled = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    assert unlabeled.count() == 4
    for item in unlabeled:
        assert item.scored_by == version.pk and item.uncertainty is not None
        assert 0.0 <= item.uncertainty <= 1.0 and item.embedding
    scoring = Job.objects.filter(project=project, kind="score").order_by("-id").first()
    assert scoring.status == "succeeded"
    # Pre-annotations (conf 0.001 on a 1-epoch model) carry source and confidence.
    for ann in Annotation.objects.filter(
        item__project=project, source=AnnotationSource.MODEL
    ):
        assert ann.model_version_id == version.pk and ann.confidence is not None
        assert len(ann.class_scores) == 3
