"""The lower flow: create a version, train it, evaluate, compare and promote."""

import logging
import time
import traceback
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from annotate.models import Item, ItemStatus, Job, JobKind, JobStatus, Pipeline, Project
from annotate.services.errors import Conflict
from annotate.services.events import event_log
from annotate.services.jobs import job_claim, job_create, job_finish, job_heartbeat
from ml import config as ml_config
from ml.comparison import compare
from ml.datasets import write_yolo_dataset
from ml.training import TrainingCancelled, TrainProgress
from models_mgmt.models import Comparison, Evaluation, ModelStatus, ModelVersion
from models_mgmt.services.backend import get_backend
from models_mgmt.services.data import ground_truth_images, run_dir
from models_mgmt.services.versions import (
    best_model,
    default_architecture,
    model_version_promote,
    next_number,
)

logger = logging.getLogger(__name__)


def _split_ids(project: Project, split: str) -> list[int]:
    return list(
        Item.objects.filter(project=project, status=ItemStatus.DONE, split=split)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def _parent(project: Project) -> ModelVersion | None:
    """The version a new one is cloned from: the best, else the newest base model."""
    return best_model(project) or (
        ModelVersion.objects.filter(project=project, is_base=True)
        .order_by("-number")
        .first()
    )


@transaction.atomic
def training_start(
    *, project: Project, actor=None, trigger: str = "manual"
) -> ModelVersion:
    """Create a queued model version with frozen train/val item ids and enqueue it.

    Raises Conflict when no train items exist yet or a training run is already
    active for the project (at most one; the database enforces it).
    """
    train_ids = _split_ids(project, "train")
    if not train_ids:
        raise Conflict("no train items yet: approve some items first")
    pipeline = Pipeline.objects.get(project=project)
    parent = _parent(project)
    raw = dict(pipeline.model_config or {})
    if parent is not None and parent.architecture and "architecture" not in raw:
        raw["architecture"] = parent.architecture
    raw.setdefault("architecture", default_architecture(project))
    raw.setdefault("device", settings.ALWEB_ML_DEVICE)
    cfg = ml_config.validate_model_config(raw)
    number = next_number(project)
    job = job_create(
        project=project, kind=JobKind.TRAIN, actor=actor, params={"trigger": trigger}
    )
    version = ModelVersion.objects.create(
        project=project,
        number=number,
        name=f"v{number}",
        parent=parent,
        architecture=cfg["architecture"],
        task=ml_config.architecture_task(cfg["architecture"]),
        config=cfg,
        class_names=list(project.labels),
        train_item_ids=train_ids,
        val_item_ids=_split_ids(project, "val"),
        epochs=cfg["epochs"],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    Job.objects.filter(pk=job.pk).update(model_version_id=version.pk)
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="training_started",
        model=version.pk,
        trigger=trigger,
    )
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "models_mgmt.tasks.run_training",
            job.pk,
            task_name=f"train-{version.pk}",
            group="training",
        )
    )
    return version


def _progress_writer(job_id: int, version_id: int):
    def report(progress: TrainProgress) -> None:
        ModelVersion.objects.filter(pk=version_id).update(
            epoch=progress.epoch,
            epochs=progress.epochs,
            progress=progress.fraction * 0.9,
            losses={**progress.losses, **progress.metrics},
            eta_seconds=progress.eta_seconds,
        )
        job_heartbeat(
            job_id,
            progress=progress.fraction * 0.9,
            message=f"epoch {progress.epoch}/{progress.epochs}",
        )

    return report


def training_run(job_id: int) -> None:
    """Worker side of a training run; idempotent (a re-delivered job is a no-op).

    Ends with the version `done` (evaluated, compared, maybe promoted) or `failed`
    with the error, and the job in a terminal state.
    """
    if not job_claim(job_id):
        logger.info("training job %s is not queued any more; skipping", job_id)
        return
    job = Job.objects.get(pk=job_id)
    version = ModelVersion.objects.select_related("parent", "project").get(
        pk=job.model_version_id
    )
    try:
        _train_and_evaluate(job, version)
    except TrainingCancelled:
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.FAILED, error="cancelled", finished_at=timezone.now()
        )
        job_finish(job_id, status=JobStatus.CANCELLED, error="cancelled")
    except Exception as exc:  # the run must end visibly failed, never stuck
        logger.exception("training of model version %s failed", version.pk)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            log=traceback.format_exc()[-20000:],
            finished_at=timezone.now(),
        )
        job_finish(
            job_id, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )


def _base_source(version: ModelVersion) -> str | Path:
    parent = version.parent
    if parent is not None and parent.weights:
        return Path(parent.weights.path)
    return version.architecture


def _train_and_evaluate(job: Job, version: ModelVersion) -> None:
    backend = get_backend()
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelStatus.TRAINING, started_at=timezone.now(), error=""
    )
    workdir = run_dir("model", version.pk)
    split_of = {i: "train" for i in version.train_item_ids}
    split_of.update({i: "val" for i in version.val_item_ids})
    images = ground_truth_images(item_ids=list(split_of), split_of=split_of)
    data_yaml = write_yolo_dataset(
        images,
        version.class_names,
        workdir / "dataset",
        task=version.task,
        splits=("train", "val"),
    )

    last_beat = [0.0]

    def cancelled() -> bool:
        # Polled after every batch: beat at most every 10 s so the reaper sees a
        # live worker even in long epochs; a cancelled or reaped job stops.
        now = time.monotonic()
        if now - last_beat[0] < 10:
            return False
        last_beat[0] = now
        return not job_heartbeat(job.pk)

    result = backend.train(
        data_yaml,
        _base_source(version),
        workdir,
        version.config,
        progress=_progress_writer(job.pk, version.pk),
        cancel=cancelled,
    )
    with open(result.weights_path, "rb") as fh:
        version.weights.save(f"v{version.number}.pt", File(fh), save=False)
    ModelVersion.objects.filter(pk=version.pk).update(
        weights=version.weights.name,
        status=ModelStatus.EVALUATING,
        progress=0.9,
        log=result.log[-200000:],
        metrics={"train": result.metrics},
    )
    job_heartbeat(job.pk, progress=0.92, message="evaluating")
    version.refresh_from_db()
    _evaluate_compare_promote(job, version)


def evaluate_on_test(version: ModelVersion, test_ids: list[int]) -> Evaluation:
    """Score `version` on the given frozen test items and store the Evaluation."""
    backend = get_backend()
    workdir = run_dir("eval", version.pk)
    images = ground_truth_images(
        item_ids=test_ids, split_of={i: "test" for i in test_ids}
    )
    data_yaml = write_yolo_dataset(
        images,
        version.class_names,
        workdir / "dataset",
        task=version.task,
        splits=("test",),
    )
    metrics = backend.validate(
        Path(version.weights.path),
        data_yaml,
        split="test",
        imgsz=version.config.get("imgsz", 320),
        device=version.config.get("device", "cpu"),
    )
    return Evaluation.objects.create(
        project=version.project,
        model_version=version,
        test_item_ids=test_ids,
        metrics=metrics,
    )


def _evaluate_compare_promote(job: Job, version: ModelVersion) -> None:
    project = version.project
    test_ids = _split_ids(project, "test")
    basis = "test"
    if not test_ids:  # too few approved items for a test split yet
        test_ids, basis = list(version.val_item_ids or version.train_item_ids), "val"
    incumbent = best_model(project)
    cand_eval = evaluate_on_test(version, test_ids)
    inc_eval = evaluate_on_test(incumbent, test_ids) if incumbent else None
    pipeline = Pipeline.objects.get(project=project)
    cfg = ml_config.validate_comparison_config(pipeline.comparison_config or {})
    decision = compare(cand_eval.metrics, inc_eval.metrics if inc_eval else None, cfg)
    reason = decision.reason + (
        "" if basis == "test" else " (no test items yet: compared on validation items)"
    )
    with transaction.atomic():
        comparison = Comparison.objects.create(
            project=project,
            candidate=version,
            incumbent=incumbent,
            config=cfg,
            metric=cfg["metric"],
            candidate_value=decision.candidate_value,
            incumbent_value=decision.incumbent_value,
            winner=decision.winner,
            promoted=False,
            reason=reason,
            test_item_ids=test_ids,
        )
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.DONE,
            progress=1.0,
            finished_at=timezone.now(),
            metrics={**version.metrics, **cand_eval.metrics},
        )
        version.refresh_from_db()
        if decision.promote:
            model_version_promote(version=version, actor=None, reason="comparison")
            Comparison.objects.filter(pk=comparison.pk).update(promoted=True)
        event_log(
            project_id=project.pk,
            actor=None,
            verb="model_compared",
            model=version.pk,
            winner=decision.winner,
            promoted=decision.promote,
        )
        job_finish(
            job.pk,
            status=JobStatus.SUCCEEDED,
            result={"model_version": version.pk, "promoted": decision.promote},
        )
