"""The lower flow: create a version, train it, evaluate, compare and promote."""

import logging
import time
import traceback
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from alweb.exceptions import Conflict
from alweb.files import files_delete_on_commit
from annotate.models import Project
from annotate.selectors_loop import (
    ground_truth_by_item,
    ground_truth_images,
    item_ids_in_split,
    item_pick_groups,
)
from annotate.services.events import event_log
from annotate.services.projects import project_lock
from ml import config as ml_config
from ml.comparison import compare
from ml.datasets import write_yolo_dataset
from ml.training import TrainingCancelled, TrainProgress
from models_mgmt.models import (
    ACTIVE_MODEL_STATUSES,
    Comparison,
    Evaluation,
    ModelStatus,
    ModelVersion,
)
from models_mgmt.selectors import (
    base_model_newest,
    best_model,
    default_architecture,
    model_version_get,
    next_number,
    training_settings_get,
)
from models_mgmt.services.backend import get_backend
from models_mgmt.services.data import run_dir
from models_mgmt.services.errors import evaluation_errors_analyse
from models_mgmt.services.versions import model_version_promote
from runs import queues
from runs.db import retry_busy
from runs.models import Job, JobKind, JobStatus
from runs.selectors import run_get
from runs.services import (
    run_claim,
    run_create,
    run_enqueue,
    run_finish,
    run_heartbeat,
)

logger = logging.getLogger(__name__)
# The cancel hook polls the run's row (a heartbeat) at most this often, so a
# cancelled training stops within a few seconds and beats keep the reaper away.
CANCEL_POLL_SECONDS = 2.0


def _split_ids(project: Project, split: str) -> list[int]:
    return item_ids_in_split(project=project, split=split)


def _parent(project: Project) -> ModelVersion | None:
    """The version a new one is cloned from: the best, else the newest base model."""
    return best_model(project=project) or base_model_newest(project=project)


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
    training = training_settings_get(project=project)
    parent = _parent(project)
    raw = dict(training.model_config or {})
    if parent is not None and parent.architecture and "architecture" not in raw:
        raw["architecture"] = parent.architecture
    raw.setdefault("architecture", default_architecture(project=project))
    raw.setdefault("device", settings.ALWEB_ML_DEVICE)
    cfg = ml_config.validate_model_config(raw)
    # "auto" epochs become a number here, frozen with the version.
    cfg["epochs"] = ml_config.epochs_for(cfg, len(train_ids))
    # The project lock reserves the number until this transaction ends: two
    # registrations at once get two numbers (PostgreSQL's READ COMMITTED).
    project_lock(project_id=project.pk)
    number = next_number(project=project)
    try:
        with transaction.atomic():
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
                created_by=actor
                if actor is not None and actor.is_authenticated
                else None,
            )
    except IntegrityError:  # another version is queued or training
        raise Conflict("a training run is already active for this project") from None
    job = run_create(
        project=project,
        kind=JobKind.TRAIN,
        task="models_mgmt.tasks.run_training",
        queue=queues.training_queue(cfg["device"]),
        actor=actor,
        params={"trigger": trigger},
        model_version_id=version.pk,
    )
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="training_started",
        model=version.pk,
        trigger=trigger,
    )
    run_enqueue(job=job)
    return version


def training_version_stop(*, version_id: int, reason: str) -> bool:
    """Mark a queued, training or evaluating version failed with `reason` (its run
    was cancelled, reaped or failed). True when it changed; finished ones stay."""
    return bool(
        ModelVersion.objects.filter(
            pk=version_id, status__in=ACTIVE_MODEL_STATUSES
        ).update(
            status=ModelStatus.FAILED,
            error=reason or "failed",
            finished_at=timezone.now(),
        )
    )


def training_version_reset_for_retry(*, version_id: int, actor=None) -> ModelVersion:
    """Put a failed version back to queued for a new run attempt: the same frozen
    train/val ids, configuration and parent; progress, metrics, log, weights and
    its own evaluations of the failed attempt are dropped.

    Raises Conflict when the version is gone, did not fail (a done version is
    not trained again), or another version of the project is training."""
    version = model_version_get(version_id=version_id)
    if version is None:
        raise Conflict("the model version of this run no longer exists")
    if version.status != ModelStatus.FAILED:
        raise Conflict(f"model version {version.name} is {version.status}: not failed")
    old_weights = version.weights.name
    try:
        with transaction.atomic():
            ModelVersion.objects.filter(pk=version.pk).update(
                status=ModelStatus.QUEUED,
                progress=0.0,
                epoch=0,
                losses={},
                history=[],
                eta_seconds=None,
                metrics={},
                error="",
                log="",
                weights="",
                started_at=None,
                finished_at=None,
            )
    except IntegrityError:  # model_one_active_training_per_project
        raise Conflict("another model version of this project is training") from None
    Evaluation.objects.filter(model_version=version).delete()
    files_delete_on_commit(storage=version.weights.storage, names=[old_weights])
    event_log(
        project_id=version.project_id,
        actor=actor,
        verb="training_retried",
        model=version.pk,
    )
    version.refresh_from_db()
    return version


def _progress_writer(job_id: int, version_id: int):
    # The worker is the version's only writer while it trains: the epochs seen so
    # far are kept here and stored whole with each report (the training curves).
    history: list[dict] = []

    def report(progress: TrainProgress) -> None:
        values = {**progress.losses, **progress.metrics}
        history[:] = [h for h in history if h["epoch"] < progress.epoch]
        history.append({"epoch": progress.epoch, **values})
        retry_busy(
            lambda: ModelVersion.objects.filter(
                pk=version_id, status=ModelStatus.TRAINING
            ).update(
                epoch=progress.epoch,
                epochs=progress.epochs,
                progress=progress.fraction * 0.9,
                losses=values,
                history=list(history),
                eta_seconds=progress.eta_seconds,
            )
        )
        run_heartbeat(
            job_id,
            progress=progress.fraction * 0.9,
            message=f"epoch {progress.epoch}/{progress.epochs}",
        )

    return report


def _move(version: ModelVersion, frm: str, to: str, **values) -> None:
    """Conditional status change of the version; TrainingCancelled when it is not
    in `frm` any more (its run was cancelled or reaped: it is failed already)."""
    moved = retry_busy(
        lambda: ModelVersion.objects.filter(pk=version.pk, status=frm).update(
            status=to, **values
        )
    )
    if not moved:
        raise TrainingCancelled()


def training_run(job_id: int) -> None:
    """Worker side of a training run; idempotent (a re-delivered job is a no-op).

    Ends with the version `done` (evaluated, compared, maybe promoted) or `failed`
    with the error (or "cancelled"), and the job in a terminal state. A cancelled
    or reaped job stops at its next heartbeat and changes the version no more.
    """
    if not run_claim(job_id):
        logger.info("training job %s is not queued any more; skipping", job_id)
        return
    job = run_get(run_id=job_id)
    version = model_version_get(version_id=job.model_version_id)
    try:
        _train_and_evaluate(job, version)
    except TrainingCancelled:
        logger.info("training job %s stopped: cancelled or reaped", job_id)
        run_finish(job_id, status=JobStatus.CANCELLED, error="cancelled")
    except Exception as exc:  # the run must end visibly failed, never stuck
        logger.exception("training of model version %s failed", version.pk)
        error = f"{type(exc).__name__}: {exc}"
        log = traceback.format_exc()[-20000:]
        retry_busy(
            lambda: ModelVersion.objects.filter(
                pk=version.pk, status__in=ACTIVE_MODEL_STATUSES
            ).update(
                status=ModelStatus.FAILED,
                error=error,
                log=log,
                finished_at=timezone.now(),
            )
        )
        run_finish(job_id, status=JobStatus.FAILED, error=error)


def _base_source(version: ModelVersion) -> str | Path:
    parent = version.parent
    if parent is not None and parent.weights:
        return Path(parent.weights.path)
    return version.architecture


def _train_and_evaluate(job: Job, version: ModelVersion) -> None:
    backend = get_backend()
    _move(
        version,
        ModelStatus.QUEUED,
        ModelStatus.TRAINING,
        started_at=timezone.now(),
        error="",
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
        # Polled after every batch: beat every CANCEL_POLL_SECONDS so the reaper
        # sees a live worker even in long epochs; a cancelled or reaped job stops.
        now = time.monotonic()
        if now - last_beat[0] < CANCEL_POLL_SECONDS:
            return False
        last_beat[0] = now
        return not run_heartbeat(job.pk)

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
    _move(
        version,
        ModelStatus.TRAINING,
        ModelStatus.EVALUATING,
        weights=version.weights.name,
        progress=0.9,
        log=result.log[-200000:],
        metrics={"train": result.metrics},
    )
    if not run_heartbeat(job.pk, progress=0.92, message="evaluating"):
        raise TrainingCancelled()
    version.refresh_from_db()
    _evaluate_compare_promote(job, version)


def evaluate_on_test(
    version: ModelVersion, test_ids: list[int], *, job_id: int | None = None
) -> Evaluation:
    """Score `version` on the given frozen test items and store the Evaluation,
    then its error analysis (services.errors: the version's predictions on the
    items matched to their ground truth). With `job_id`, the analysis beats
    that run's heartbeat and stops (TrainingCancelled) when it was cancelled."""
    backend = get_backend()
    workdir = run_dir("eval", version.pk)
    by_item = ground_truth_by_item(
        item_ids=test_ids, split_of={i: "test" for i in test_ids}
    )
    data_yaml = write_yolo_dataset(
        list(by_item.values()),
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
    evaluation = Evaluation.objects.create(
        project=version.project,
        model_version=version,
        test_item_ids=test_ids,
        metrics=metrics,
    )
    evaluation_errors_analyse(
        evaluation=evaluation,
        version=version,
        images=by_item,
        beat=_beat(job_id) if job_id is not None else None,
        groups=item_pick_groups(item_ids=test_ids),
    )
    return evaluation


def _beat(job_id: int):
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        if now - last[0] < CANCEL_POLL_SECONDS:
            return
        last[0] = now
        if not run_heartbeat(job_id):
            raise TrainingCancelled()

    return beat


def _evaluate_compare_promote(job: Job, version: ModelVersion) -> None:
    project = version.project
    test_ids = _split_ids(project, "test")
    basis = "test"
    if not test_ids:  # too few approved items for a test split yet
        test_ids, basis = list(version.val_item_ids or version.train_item_ids), "val"
    incumbent = best_model(project=project)
    cand_eval = evaluate_on_test(version, test_ids, job_id=job.pk)
    if not run_heartbeat(job.pk, progress=0.95, message="evaluating the incumbent"):
        raise TrainingCancelled()
    inc_eval = (
        evaluate_on_test(incumbent, test_ids, job_id=job.pk) if incumbent else None
    )
    training = training_settings_get(project=project)
    cfg = ml_config.validate_comparison_config(training.comparison_config or {})
    decision = compare(
        cand_eval.metrics,
        inc_eval.metrics if inc_eval else None,
        cfg,
        test_items=len(test_ids),
    )
    reason = decision.reason + (
        "" if basis == "test" else " (no test items yet: compared on validation items)"
    )

    @transaction.atomic
    def conclude() -> None:
        # The project lock before any row (as model_version_promote takes it):
        # a manual promotion at the same time waits instead of deadlocking.
        project_lock(project_id=project.pk)
        # The run ends first: when it was cancelled or reaped meanwhile, nothing
        # below happens (the version stays failed, nothing is promoted).
        if not run_finish(
            job.pk,
            status=JobStatus.SUCCEEDED,
            result={"model_version": version.pk, "promoted": decision.promote},
        ):
            raise TrainingCancelled()
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
        _move(
            version,
            ModelStatus.EVALUATING,
            ModelStatus.DONE,
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

    retry_busy(conclude)
