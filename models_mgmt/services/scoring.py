"""The upper flow: pre-annotate and score unlabelled items, then re-order the queue."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotate.models import (
    Annotation,
    AnnotationSource,
    Item,
    ItemStatus,
    Pipeline,
    Project,
)
from annotate.services.errors import Conflict
from ml import config as ml_config
from ml import selection
from ml.embeddings import pixel_embedding
from ml.geometry import GeometryError, validate_shape
from ml.scores import uncertainty as image_uncertainty
from models_mgmt.models import ModelVersion
from models_mgmt.services.backend import get_backend
from models_mgmt.services.versions import best_model
from runs import queues
from runs.db import retry_busy
from runs.errors import RunStopped
from runs.models import Job, JobKind, JobStatus
from runs.selectors import run_get
from runs.services import (
    run_claim,
    run_create,
    run_enqueue,
    run_finish,
    run_heartbeat_or_stop,
)

logger = logging.getLogger(__name__)


def scoring_request(*, project: Project, actor=None) -> Job | None:
    """Queue a scoring run for the project unless one is already queued.

    A queued run picks up every item that needs scoring when it starts, so a
    second request while one waits adds nothing. While one is running, the
    running one loops until no item is left unscored.
    """
    try:
        with transaction.atomic():
            job = run_create(
                project=project,
                kind=JobKind.SCORE,
                task="models_mgmt.tasks.run_scoring",
                queue=queues.WORK,
                actor=actor,
            )
            run_enqueue(job=job)
            return job
    except Conflict:
        return None


def _pending_items(project: Project, model: ModelVersion | None):
    """Unlabelled items not yet scored by the current model (or not embedded)."""
    qs = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    if model is None:
        return qs.filter(embedding__isnull=True)
    return qs.exclude(scored_by=model.pk)


def scoring_run(job_id: int) -> None:
    """Worker side of a scoring run; idempotent. Ends succeeded or failed; a
    cancelled or reaped run stops at its next heartbeat (after a batch)."""
    if not run_claim(job_id):
        return
    job = run_get(run_id=job_id)
    try:
        scored = _score_project(job)
        prioritise_project(project=job.project)
    except RunStopped:
        logger.info("scoring run %s stopped: cancelled or reaped", job_id)
        return
    except Exception as exc:  # visible failure, never stuck "running"
        logger.exception("scoring job %s failed", job_id)
        run_finish(
            job_id, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        return
    run_finish(job_id, status=JobStatus.SUCCEEDED, result={"scored": scored})


def _score_project(job: Job) -> int:
    project = job.project
    batch = settings.ALWEB_SCORING_BATCH
    done = 0
    while True:
        # The best model of now, every page: one promoted while this run goes on
        # gets no run of its own (scoring_request finds this one active), so
        # this one scores the pool again with it.
        model = best_model(project)
        # One model load and one prediction stream per page; writes per batch.
        pending = list(_pending_items(project, model).order_by("id")[: batch * 32])
        if not pending:
            return done
        total = done + _pending_items(project, model).count()
        if model is None:
            chunks = (
                (pending[i : i + batch], None) for i in range(0, len(pending), batch)
            )
        else:
            chunks = _predicted_chunks(project, model, pending, batch)
        for chunk, predictions in chunks:
            if model is None:
                _embed_cold(chunk)
            else:
                _store_scores(project, model, chunk, predictions)
            done += len(chunk)
            run_heartbeat_or_stop(
                job.pk,
                progress=0.95 * done / max(total, 1),
                message=f"{done}/{total} items",
            )


def _embed_cold(items: list[Item]) -> None:
    """Before any model: cheap pixel embeddings for the diversity cold start."""
    for item in items:
        item.embedding = list(pixel_embedding(item.file.path))
    retry_busy(lambda: Item.objects.bulk_update(items, ["embedding"]))


def _predicted_chunks(
    project: Project, model: ModelVersion, items: list[Item], batch: int
):
    """Yield (items, predictions) per `batch` from one stream over all `items`."""
    cfg = ml_config.validate_model_config(
        model.config or {"architecture": model.architecture or "yolov8n.yaml"}
    )
    stream = get_backend().score_images(
        Path(model.weights.path),
        [item.file.path for item in items],
        imgsz=cfg["imgsz"],
        conf=cfg["conf"],
        device=cfg["device"],
        batch=batch,
        embed=True,
    )
    chunk, preds = [], []
    for item, pred in zip(items, stream, strict=True):
        chunk.append(item)
        preds.append(pred)
        if len(chunk) == batch:
            yield chunk, preds
            chunk, preds = [], []
    if chunk:
        yield chunk, preds


def _store_scores(
    project: Project, model: ModelVersion, items: list[Item], predictions
) -> None:
    pipeline = Pipeline.objects.get(project=project)
    params = selection.validate_strategy_params(
        pipeline.strategy, pipeline.strategy_params
    )
    method = selection.STRATEGIES[pipeline.strategy].method_for(params) or "entropy"
    aggregate = params.get("aggregate", "max")
    now = timezone.now()
    new_annotations = []
    for item, pred in zip(items, predictions, strict=True):
        item.uncertainty = image_uncertainty(pred.detections, method, aggregate)
        item.embedding = list(pred.embedding) if pred.embedding else None
        item.scored_by = model.pk
        item.scored_at = now
        new_annotations.extend(_pre_annotations(project, model, item, pred.detections))

    @transaction.atomic
    def write() -> None:
        # Only items still unlabelled get new pre-annotations; claimed ones are left.
        ids = set(
            Item.objects.filter(
                pk__in=[i.pk for i in items], status=ItemStatus.UNLABELED
            ).values_list("pk", flat=True)
        )
        Annotation.objects.filter(
            item_id__in=ids, source=AnnotationSource.MODEL
        ).delete()
        fresh = [a for a in new_annotations if a.item_id in ids]
        for annotation in fresh:  # ids of a rolled-back attempt are not taken
            annotation.pk = None
        Annotation.objects.bulk_create(fresh)
        Item.objects.bulk_update(
            [i for i in items if i.pk in ids],
            ["uncertainty", "embedding", "scored_by", "scored_at"],
        )

    retry_busy(write)


def _pre_annotations(project, model, item, detections) -> list[Annotation]:
    out = []
    kinds = project.kinds
    # Uncertainty uses every box kept at the scoring conf; only the more likely
    # ones are shown to the annotator as pre-annotations.
    shown = sorted(
        (
            d
            for d in detections
            if d.confidence >= settings.ALWEB_PREANNOTATION_MIN_CONF
        ),
        key=lambda d: -d.confidence,
    )[: settings.ALWEB_PREANNOTATION_MAX_PER_ITEM]
    for det in shown:
        if det.label not in project.labels:
            continue
        if det.points and "polygon" in kinds:
            shape = {
                "kind": "polygon",
                "label": det.label,
                "points": [list(p) for p in det.points],
            }
        elif "box" in kinds:
            shape = {"kind": "box", "label": det.label, "bbox": list(det.bbox)}
        else:
            x, y, w, h = det.bbox
            shape = {
                "kind": "polygon",
                "label": det.label,
                "points": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
            }
        try:
            clean = validate_shape(
                shape,
                width=item.width,
                height=item.height,
                labels=project.labels,
                kinds=kinds,
            )
        except GeometryError:
            continue  # a degenerate prediction is not worth showing
        geometry = (
            {"bbox": clean["bbox"]}
            if clean["kind"] == "box"
            else {"points": clean["points"]}
        )
        out.append(
            Annotation(
                item_id=item.pk,
                kind=clean["kind"],
                label=clean["label"],
                geometry=geometry,
                area=clean["area"],
                source=AnnotationSource.MODEL,
                model_version_id=model.pk,
                confidence=round(det.confidence, 4),
                class_scores=[round(s, 4) for s in det.class_scores],
            )
        )
    return out


def prioritise_project(*, project: Project) -> int:
    """Recompute queue priorities of all unlabelled items with the project's strategy
    (or its cold-start strategy before any model exists). Returns the count."""
    pipeline = Pipeline.objects.get(project=project)
    model = best_model(project)
    strategy = pipeline.strategy if model else pipeline.cold_start_strategy
    params = pipeline.strategy_params if model else {}
    rows = list(
        Item.objects.filter(project=project, status=ItemStatus.UNLABELED).values_list(
            "pk", "uncertainty", "embedding"
        )
    )
    candidates = [
        selection.Candidate(pk, unc, tuple(emb) if emb else None)
        for pk, unc, emb in rows
    ]
    reference = None
    if selection.STRATEGIES[strategy].needs_embeddings:
        reference = [
            e
            for e in Item.objects.filter(
                project=project,
                status=ItemStatus.DONE,
                embedding__isnull=False,
            ).values_list("embedding", flat=True)[:5000]
            if e and (not rows or not rows[0][2] or len(e) == len(rows[0][2]))
        ]
    try:
        priorities = selection.prioritise(
            strategy,
            candidates,
            params,
            pipeline.split_seed,
            reference_embeddings=reference or None,
        )
    except ValueError:
        logger.warning("strategy %s failed; falling back to random", strategy)
        priorities = selection.prioritise("random", candidates, {}, pipeline.split_seed)
    items = [Item(pk=pk, priority=float(p)) for pk, p in priorities.items()]
    retry_busy(lambda: Item.objects.bulk_update(items, ["priority"], batch_size=2000))
    return len(items)
