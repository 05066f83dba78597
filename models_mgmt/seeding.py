"""Bulk rows for `manage.py seed_large`: models_mgmt's side of a large project
(a base model, trained versions with their evaluations and comparisons) and the
runs that made them, through runs' own service. annotate's side (items, shapes,
tasks, events) is `annotate.services.seeding`. Only for a project seed_large has
just created, in the command's transaction.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from alweb.roles import Role
from annotate.models import Split
from annotate.selectors_loop import item_ids_in_split
from models_mgmt.models import (
    Comparison,
    Evaluation,
    EvaluationError,
    ModelStatus,
    ModelVersion,
)
from runs.models import JobKind, JobStatus
from runs.services import jobs_seed


@transaction.atomic
def versions_seed(*, project, developer) -> list[ModelVersion]:
    """The project's model versions (v4 the best); see `_model_versions`."""
    return _model_versions(project, developer, timezone.now())


@transaction.atomic
def history_seed(*, project, versions, users) -> dict[str, int]:
    """Frozen splits, evaluations, comparisons and runs of `versions`, once the
    items and their splits exist."""
    return _history(project, versions, users, timezone.now())


def _model_versions(project, developer, now) -> list[ModelVersion]:
    """A base model and five trained versions: v4 is the best, v5 lost its
    comparison, v6 failed. No weights files: they were never trained here."""
    labels = list(project.labels)
    config = {"architecture": "yolov8n-seg.yaml", "epochs": 50, "imgsz": 320}
    base = ModelVersion.objects.create(
        project=project,
        number=1,
        name="base-1",
        is_base=True,
        architecture="yolov8n-seg.yaml",
        task="segment",
        status=ModelStatus.DONE,
        class_names=labels,
        created_by=developer,
    )
    versions, parent = [base], base
    for number, map50 in ((2, 0.41), (3, 0.52), (4, 0.61), (5, 0.58), (6, None)):
        version = ModelVersion.objects.create(
            project=project,
            number=number,
            name=f"v{number}",
            parent=parent,
            architecture="yolov8n-seg.yaml",
            task="segment",
            config=config,
            class_names=labels,
            epochs=50,
            epoch=50 if map50 else 12,
            progress=1.0 if map50 else 0.24,
            status=ModelStatus.DONE if map50 else ModelStatus.FAILED,
            error="" if map50 else "CUDA out of memory",
            metrics=_metrics(map50, labels) if map50 else {},
            losses={"box_loss": 2.0 / (50 if map50 else 12)},
            history=[
                {"epoch": e, "box_loss": 2.0 / e, "cls_loss": 1.5 / e}
                | ({"map50": round(map50 * e / 50, 4)} if map50 else {})
                for e in range(1, (50 if map50 else 12) + 1)
            ],
            created_by=developer,
            started_at=now - timedelta(days=40 - number * 6),
            finished_at=now - timedelta(days=40 - number * 6, hours=-2),
        )
        versions.append(version)
        if number <= 4:
            parent = version
    best = next(v for v in versions if v.number == 4)
    # Each promoted version records the one it replaced (roll back walks back).
    for number in (3, 4):
        ModelVersion.objects.filter(project=project, number=number).update(
            promoted_from=next(v for v in versions if v.number == number - 1)
        )
    ModelVersion.objects.filter(pk=best.pk).update(is_best=True)
    best.is_best = True
    return versions


def _metrics(map50: float, labels: list[str]) -> dict:
    return {
        "map50": map50,
        "map50_95": round(map50 * 0.6, 3),
        "precision": round(map50 + 0.1, 3),
        "recall": round(map50 - 0.05, 3),
        "per_class": {label: {"map50": map50} for label in labels},
    }


def _history(project, versions, users, now) -> dict[str, int]:
    """Frozen splits on the trained versions, evaluations, comparisons and runs."""
    split_ids = {
        split: item_ids_in_split(project=project, split=split) for split in Split.values
    }
    trained = [v for v in versions if not v.is_base]
    ModelVersion.objects.filter(pk__in=[v.pk for v in trained]).update(
        train_item_ids=split_ids["train"], val_item_ids=split_ids["val"]
    )
    evaluations, comparisons, jobs = [], [], []
    incumbent = None
    developer = users[Role.DEVELOPER][0]
    for version in trained:
        jobs.append(_job(project, JobKind.TRAIN, version, developer, now))
        if version.status != ModelStatus.DONE:
            continue
        evaluations.append(
            Evaluation(
                project=project,
                model_version=version,
                test_item_ids=split_ids["test"],
                metrics=version.metrics,
            )
        )
        promoted = (
            incumbent is None or version.metrics["map50"] > (incumbent.metrics["map50"])
        )
        comparisons.append(
            Comparison(
                project=project,
                candidate=version,
                incumbent=incumbent,
                config={"metric": "map50", "min_delta": 0.0},
                metric="map50",
                candidate_value=version.metrics["map50"],
                incumbent_value=incumbent.metrics["map50"] if incumbent else None,
                winner="candidate" if promoted else "incumbent",
                promoted=promoted,
                reason="higher map50" if promoted else "not better on map50",
                test_item_ids=split_ids["test"],
            )
        )
        if promoted:
            incumbent = version
            jobs.append(_job(project, JobKind.SCORE, version, developer, now))
    manager = users[Role.ANNOTATION_MANAGER][0]
    for fmt in ("coco", "yolo"):
        job = _job(project, JobKind.EXPORT, None, manager, now)
        job.update(params={"format": fmt}, result={"items": len(split_ids["train"])})
        jobs.append(job)
    Evaluation.objects.bulk_create(evaluations)
    errors = _errors_seed(evaluations, split_ids["test"], list(project.labels))
    Comparison.objects.bulk_create(comparisons)
    jobs_seed(rows=jobs)
    return {
        "model versions": len(versions),
        "evaluations": len(evaluations),
        "comparisons": len(comparisons),
        "runs": len(jobs),
        "error records": errors,
    }


# Error kinds seeded per test item: (kind, every how many items; shifted per
# version so that versions fix and introduce some of them); every item has
# at least one.
_SEEDED_ERRORS = (("missed", 1), ("background", 2), ("confusion", 3))


def _errors_seed(evaluations, test_ids: list[int], labels: list[str]) -> int:
    """Error records of each evaluation (as services.errors stores them), a
    few per test item, different per version, and the stats saying they are
    whole: the error pages have something to count at every size."""
    rows = []
    for n, evaluation in enumerate(evaluations):
        stats = {
            "min_confidence": 0.25,
            "iou": 0.5,
            "background_iou": 0.1,
            "items": len(test_ids),
            "true_positive": {},
            "shapes": {},
        }
        for i, item_id in enumerate(test_ids):
            label = labels[i % len(labels)]
            other = labels[(i + 1) % len(labels)]
            for kind, every in _SEEDED_ERRORS:
                if (i + n) % every:
                    continue
                rows.append(
                    EvaluationError(
                        evaluation=evaluation,
                        item_id=item_id,
                        kind=kind,
                        cls=label,
                        label="" if kind == "background" else label,
                        predicted="" if kind == "missed" else other,
                        gt_index=None if kind == "background" else 0,
                        pred_index=None if kind == "missed" else 0,
                        iou=0.0 if kind != "confusion" else 0.8,
                        confidence=None if kind == "missed" else 0.6,
                        bbox=None if kind == "missed" else [10.0, 10.0, 30.0, 30.0],
                    )
                )
            stats["true_positive"][label] = stats["true_positive"].get(label, 0) + 1
            stats["shapes"][label] = stats["shapes"].get(label, 0) + 1
        stats["errors"] = sum(1 for r in rows if r.evaluation is evaluation)
        evaluation.error_stats = stats
    Evaluation.objects.bulk_update(evaluations, ["error_stats"])
    EvaluationError.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _job(project, kind, version, actor, now) -> dict:
    failed = version is not None and version.status == ModelStatus.FAILED
    task, queue = {
        JobKind.TRAIN: ("models_mgmt.tasks.run_training", "training"),
        JobKind.SCORE: ("models_mgmt.tasks.run_scoring", "work"),
        JobKind.EXPORT: ("annotate.tasks.export_run", "work"),
    }[kind]
    ended = version.finished_at if version is not None else now - timedelta(days=1)
    return dict(
        project=project,
        kind=kind,
        status=JobStatus.FAILED if failed else JobStatus.SUCCEEDED,
        progress=version.progress if failed else 1.0,
        error=version.error if failed else "",
        model_version_id=version.pk if version is not None else None,
        task=task,
        queue=queue,
        created_by=actor,
        started_at=ended - timedelta(hours=2),
        heartbeat_at=ended,
        finished_at=ended,
    )
