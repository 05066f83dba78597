"""Label-error candidates after a promotion: the best model predicts the
approved items it was not trained on (validation and test splits), the
disagreements are ranked (ml.label_errors) and the items flagged through
annotate's services for re-review.

Training items are not checked: a model repeats its own training labels'
mistakes, and out-of-fold predictions (ml.label_errors.folds) would cost k
extra trainings per promotion.
"""

import logging
from pathlib import Path

from annotate.models import Project
from annotate.selectors_loop import ground_truth_by_item, item_ids_in_split
from annotate.services.label_errors import FlagData, label_error_flags_replace
from ml import config as ml_config
from ml.label_errors import LabelErrorParams, rank_label_errors
from ml.thresholds import DEFAULTS
from models_mgmt.models import ModelVersion
from models_mgmt.selectors import best_model, training_settings_get
from models_mgmt.services.backend import get_backend
from runs import queues
from runs.db import retry_busy
from runs.models import Job, JobKind
from runs.services import (
    run_execute,
    run_heartbeat_or_stop,
    run_request,
)

logger = logging.getLogger(__name__)

SPLITS = ("val", "test")  # held out from the model's training
# The default of the project setting label_error_min_score: a candidate is
# flagged from this score on (ml.label_errors: the model's confidence times how
# badly label and prediction agree); below it, the model is unsure or the
# disagreement small.
FLAG_MIN_SCORE = DEFAULTS["label_error_min_score"]
# Predictions kept: low enough that the class-score support of a label the
# model barely sees still counts (as the pool is scored).
PREDICT_CONF = 0.05
MAX_ITEMS = 20_000  # items checked per run (the first by id of each split)
BATCH = 16  # images per forward pass, and per heartbeat


def label_errors_request(*, project: Project, actor=None) -> Job | None:
    """Queue a label-error run unless one is already active (None then)."""
    return run_request(
        project=project,
        kind=JobKind.LABEL_ERRORS,
        task="models_mgmt.tasks.run_label_errors",
        queue=queues.WORK,
        actor=actor,
    )


def label_errors_run(job_id: int) -> None:
    """Worker side: ends succeeded (result: the counts) or failed; a
    cancelled or reaped run stops at its next heartbeat."""
    run_execute(job_id, lambda job: label_errors_check(job=job), name="label-error")


def _predict(model: ModelVersion, paths: list[str]):
    cfg = ml_config.validate_model_config(
        model.config or {"architecture": model.architecture or "yolov8n.yaml"}
    )
    return get_backend().score_images(
        Path(model.weights.path),
        paths,
        imgsz=cfg["imgsz"],
        conf=PREDICT_CONF,
        device=cfg["device"],
        batch=BATCH,
        embed=False,
    )


def _candidate(c) -> dict:
    def box(b):
        return None if b is None else [round(float(v), 2) for v in b]

    return {
        "kind": c.kind,
        "score": round(float(c.score), 4),
        "reason": c.reason,
        "label": c.label,
        "predicted": c.predicted,
        "iou": round(float(c.iou), 4),
        "confidence": round(float(c.confidence), 4),
        "gt_index": c.gt_index,
        "pred_index": c.pred_index,
        "gt_bbox": box(c.gt_bbox),
        "pred_bbox": box(c.pred_bbox),
    }


def label_errors_check(*, job: Job | None = None, project: Project | None = None):
    """Predict the held-out ground truth with the best model, rank the
    disagreements and replace the open flags of the checked items.
    Returns {"model_version", "checked", "flagged", ...}; nothing is checked
    without a best model with weights."""
    project = job.project if job is not None else project
    model = best_model(project=project)
    if model is None or not model.weights:
        return {"model_version": None, "checked": 0, "flagged": 0}
    ids: list[int] = []
    split_of: dict[int, str] = {}
    for split in SPLITS:
        found = item_ids_in_split(project=project, split=split)[:MAX_ITEMS]
        ids += found
        split_of.update(dict.fromkeys(found, split))
    ids = ids[:MAX_ITEMS]
    images = ground_truth_by_item(item_ids=ids, split_of=split_of)
    ids = list(images)
    rows = []
    stream = _predict(model, [images[i].path for i in ids]) if ids else iter(())
    for n, (item_id, prediction) in enumerate(zip(ids, stream, strict=True), 1):
        rows.append((item_id, images[item_id].shapes, prediction.detections))
        if job is not None and n % BATCH == 0:
            run_heartbeat_or_stop(
                job.pk, progress=0.9 * n / len(ids), message=f"{n}/{len(ids)} items"
            )
    ranked = rank_label_errors(
        rows, class_names=list(model.class_names or []), params=LabelErrorParams()
    )
    min_score = training_settings_get(project=project).label_error_min_score
    by_item: dict[int, list[dict]] = {}
    for c in ranked:
        if c.score >= min_score:
            by_item.setdefault(c.image_id, []).append(_candidate(c))
    flags = [FlagData(item_id=i, candidates=cs) for i, cs in by_item.items()]
    counts = retry_busy(
        lambda: label_error_flags_replace(
            project=project,
            model_version_id=model.pk,
            model_name=model.name,
            checked_item_ids=ids,
            flags=flags,
        )
    )
    return {"model_version": model.pk, "checked": len(ids), **counts}
