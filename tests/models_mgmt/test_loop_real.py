"""The whole lower and upper flow with real ultralytics, offline, in sync mode:
v1 from the architecture file, then v2 fine-tuned from v1 and compared with it."""

import pytest

from annotate.demo_data import synthetic_image
from annotate.models import Annotation, AnnotationSource, Item, ItemStatus
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from ml.comparison import compare
from models_mgmt.models import (
    Comparison,
    Evaluation,
    EvaluationError,
    ModelStatus,
    ModelVersion,
)
from models_mgmt.services.pipeline import pipeline_update
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


def _trained(version):
    version.refresh_from_db()
    job = Job.objects.get(model_version_id=version.pk, kind="train")
    assert job.status == "succeeded", (job.error, version.error)
    assert version.status == ModelStatus.DONE and version.weights
    assert version.epoch == 1 and version.progress == 1.0
    return version


def _train_args(version) -> dict:
    import torch

    # Our own checkpoint, just written by the test: trusted to unpickle.
    return torch.load(version.weights.path, map_location="cpu", weights_only=False)[
        "train_args"
    ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_train_promote_fine_tune_against_the_incumbent_and_rescore(settings):
    # A 1-epoch model's boxes score below the default 0.1 shown to annotators;
    # show them all, so that pre-annotations surely exist.
    settings.ALWEB_PREANNOTATION_MIN_CONF = 0.0
    owner = UserFactory(username="loop-owner")
    project = make_project(owner, name="Loop", kinds=["box", "polygon"])
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "model_config": TINY,
            "split": {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1},
            # Plumbing, not quality: a 1-epoch model scores below the floor.
            "comparison_config": {"min_score": 0.0, "min_test_items": 1},
        },
    )
    _ground_truth(project, owner, 16)
    train_ids = set(
        Item.objects.filter(project=project, split="train").values_list("pk", flat=True)
    )
    assert train_ids

    v1 = _trained(training_start(project=project, actor=owner))  # sync: inline
    assert v1.parent is None or v1.parent.is_base
    assert _train_args(v1)["model"] == "yolov8n.yaml"
    assert set(v1.train_item_ids) == train_ids
    evaluation = Evaluation.objects.get(model_version=v1)
    assert {"map50", "map50_95", "precision", "recall", "per_class"} <= set(
        evaluation.metrics
    )
    # The evaluation stored its matched detections (real predictions): every
    # test shape is found or missed, each miss a stored record.
    stats = evaluation.error_stats
    assert stats["items"] == len(evaluation.test_item_ids) > 0
    shapes = Annotation.objects.filter(item_id__in=evaluation.test_item_ids)
    assert sum(stats["shapes"].values()) == shapes.count() > 0
    missed = EvaluationError.objects.filter(evaluation=evaluation, kind="missed")
    assert sum(stats["true_positive"].values()) + missed.count() == shapes.count()
    first = Comparison.objects.get(candidate=v1)
    # No incumbent: the first trained version wins and becomes best.
    assert first.incumbent is None and first.winner == "candidate" and first.promoted
    assert ModelVersion.objects.get(project=project, is_best=True) == v1

    # v2 starts from the best model's weights and must beat it to replace it.
    v2 = _trained(training_start(project=project, actor=owner))
    assert v2.parent_id == v1.pk
    assert _train_args(v2)["model"] == v1.weights.path
    second = Comparison.objects.get(candidate=v2)
    assert second.incumbent_id == v1.pk
    assert second.candidate_value is not None and second.incumbent_value is not None
    cand = Evaluation.objects.filter(model_version=v2).latest("id")
    inc = Evaluation.objects.filter(model_version=v1).latest("id")
    assert cand.test_item_ids == inc.test_item_ids == second.test_item_ids
    decision = compare(cand.metrics, inc.metrics, second.config)
    assert (second.winner, second.promoted) == (decision.winner, decision.promote)
    assert (second.candidate_value, second.incumbent_value) == pytest.approx(
        (decision.candidate_value, decision.incumbent_value)
    )
    best = ModelVersion.objects.get(project=project, is_best=True)
    assert best == (v2 if decision.promote else v1)

    # The unlabelled pool is scored by the best model, with pre-annotations.
    unlabeled = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    assert unlabeled.count() == 4
    for item in unlabeled:
        assert item.scored_by == best.pk and item.uncertainty is not None
        assert 0.0 <= item.uncertainty <= 1.0 and item.embedding
    scoring = Job.objects.filter(project=project, kind="score").order_by("-id").first()
    assert scoring.status == "succeeded"
    pre = Annotation.objects.filter(
        item__project=project, source=AnnotationSource.MODEL
    )
    assert pre.count() > 0
    assert set(pre.values_list("item_id", flat=True)) <= set(
        unlabeled.values_list("pk", flat=True)
    )
    assert set(pre.values_list("model_version_id", flat=True)) == {best.pk}
    for ann in pre:
        assert ann.confidence is not None and len(ann.class_scores) == 3
