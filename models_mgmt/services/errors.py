"""Error analysis of an evaluation: the version's predictions on the evaluated
items matched to their ground truth (ml.errors), stored as EvaluationError rows
in batches, then the evaluation's error_stats (which says the rows are whole)."""

import logging
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from ml import config as ml_config
from ml.errors import MISSED, TRUE_POSITIVE, match_image
from ml.thresholds import DEFAULTS
from ml.training import TrainingCancelled
from ml.types import GroundTruthImage
from models_mgmt.models import Evaluation, EvaluationError, ModelVersion
from models_mgmt.selectors import training_settings_get
from models_mgmt.services.backend import get_backend
from runs.db import retry_busy

logger = logging.getLogger(__name__)

# The default of the project setting error_min_confidence: predictions below
# it are not errors a user would see (the common operating point of YOLO
# detectors, ultralytics' own predict default). The pool is scored lower
# (config "conf") because uncertainty needs them.
ERROR_MIN_CONFIDENCE = DEFAULTS["error_min_confidence"]
ROWS_PER_INSERT = 500  # rows held in memory before they are written
IMAGES_PER_BATCH = 16  # images per forward pass, and per heartbeat


def _rows(evaluation_id: int, records) -> list[EvaluationError]:
    return [
        EvaluationError(
            evaluation_id=evaluation_id,
            item_id=r.image_id,
            kind=r.kind,
            cls=r.cls[:100],
            label=(r.label or "")[:100],
            predicted=(r.predicted or "")[:100],
            gt_index=r.gt_index,
            pred_index=r.pred_index,
            iou=round(float(r.iou), 4),
            confidence=None if r.confidence is None else round(r.confidence, 4),
            bbox=None if r.bbox is None else [round(float(v), 2) for v in r.bbox],
        )
        for r in records
        if r.kind != TRUE_POSITIVE
    ]


@transaction.atomic
def evaluation_errors_store(*, evaluation_id: int, rows: list) -> None:
    """Insert a batch of the evaluation's error rows (one transaction)."""
    EvaluationError.objects.bulk_create(rows, batch_size=ROWS_PER_INSERT)


@transaction.atomic
def evaluation_errors_finish(*, evaluation_id: int, stats: dict) -> None:
    """Mark the evaluation's error analysis whole (or failed: {"error": ...});
    a failed one loses the rows it had written."""
    if "error" in stats:
        EvaluationError.objects.filter(evaluation_id=evaluation_id).delete()
    Evaluation.objects.filter(pk=evaluation_id).update(error_stats=stats)


def _predictions(
    version: ModelVersion, images: list[GroundTruthImage], min_confidence: float
):
    cfg = ml_config.validate_model_config(
        version.config or {"architecture": version.architecture or "yolov8n.yaml"}
    )
    return get_backend().score_images(
        Path(version.weights.path),
        [img.path for img in images],
        imgsz=cfg["imgsz"],
        conf=min_confidence,
        device=cfg["device"],
        batch=IMAGES_PER_BATCH,
        embed=False,
    )


def evaluation_errors_analyse(
    *,
    evaluation: Evaluation,
    version: ModelVersion,
    images: dict[int, GroundTruthImage],
    beat: Callable[[], None] | None = None,
    groups: dict[int, str] | None = None,
) -> dict:
    """Predict every image of `images` ({item id: ground truth}) with the
    version, match the predictions to the shapes (ml.errors.match_image at the
    project's error_match_iou, background below its error_background_iou,
    confidence at least its error_min_confidence: TrainingSettings) and store
    the errors; the stats record the thresholds used.

    Memory stays bounded: the backend streams its predictions and rows are
    written ROWS_PER_INSERT at a time. `beat` is called every
    IMAGES_PER_BATCH images; TrainingCancelled from it propagates (the
    evaluation keeps empty error_stats). Any other failure of the pass is
    logged and stored as error_stats {"error": ...}: the metrics stand.

    With `groups` ({item id: how it was chosen}, annotate's item_pick_groups),
    the stats also count, per group, its items, true positives, false
    positives (every unmatched prediction) and missed shapes ("by_pick"): what
    the learning curve of the random picks is drawn from.
    Returns the stats stored."""
    ids = list(images)
    true_positive: dict[str, int] = {}
    shapes: dict[str, int] = {}
    pending: list[EvaluationError] = []
    errors = 0
    by_pick: dict[str, dict[str, int]] = {}
    settings = training_settings_get(project=version.project)
    match_iou, background_iou, min_confidence = (
        settings.error_match_iou,
        settings.error_background_iou,
        settings.error_min_confidence,
    )
    try:
        stream = (
            _predictions(version, [images[i] for i in ids], min_confidence)
            if ids
            else iter(())
        )
        for n, (item_id, prediction) in enumerate(zip(ids, stream, strict=True), 1):
            gt = images[item_id]
            records = match_image(
                item_id,
                gt.shapes,
                prediction.detections,
                iou=match_iou,
                background_iou=background_iou,
                min_confidence=min_confidence,
            )
            for shape in gt.shapes:
                shapes[shape.label] = shapes.get(shape.label, 0) + 1
            for r in records:
                if r.kind == TRUE_POSITIVE:
                    true_positive[r.cls] = true_positive.get(r.cls, 0) + 1
            if groups is not None:
                _count_pick(by_pick, groups.get(item_id, "other"), records)
            pending += _rows(evaluation.pk, records)
            if len(pending) >= ROWS_PER_INSERT:
                errors += _flush(evaluation.pk, pending)
            if beat is not None and n % IMAGES_PER_BATCH == 0:
                beat()
        errors += _flush(evaluation.pk, pending)
    except TrainingCancelled:  # from `beat`: the run stops here
        raise
    except Exception as exc:  # an unreadable image, the model, a short stream
        return _failed(evaluation, exc)
    stats = {
        "min_confidence": min_confidence,
        "iou": match_iou,
        "background_iou": background_iou,
        "items": len(ids),
        "errors": errors,
        "true_positive": dict(sorted(true_positive.items())),
        "shapes": dict(sorted(shapes.items())),
        **({"by_pick": dict(sorted(by_pick.items()))} if groups is not None else {}),
    }
    retry_busy(
        lambda: evaluation_errors_finish(evaluation_id=evaluation.pk, stats=stats)
    )
    evaluation.error_stats = stats
    return stats


def _count_pick(by_pick: dict, group: str, records) -> None:
    counts = by_pick.setdefault(
        group, {"items": 0, "true_positive": 0, "false_positive": 0, "missed": 0}
    )
    counts["items"] += 1
    for r in records:
        if r.kind == TRUE_POSITIVE:
            counts["true_positive"] += 1
        elif r.kind == MISSED:
            counts["missed"] += 1
        else:
            counts["false_positive"] += 1


def _flush(evaluation_id: int, pending: list) -> int:
    rows = list(pending)
    pending.clear()
    if rows:
        retry_busy(
            lambda: evaluation_errors_store(evaluation_id=evaluation_id, rows=rows)
        )
    return len(rows)


def _failed(evaluation: Evaluation, exc: Exception) -> dict:
    logger.exception("error analysis of evaluation %s failed", evaluation.pk)
    stats = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    retry_busy(
        lambda: evaluation_errors_finish(evaluation_id=evaluation.pk, stats=stats)
    )
    evaluation.error_stats = stats
    return stats
