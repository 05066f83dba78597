"""The upper flow: pre-annotate and score unlabelled items, then re-order the queue."""

import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from annotate.models import Item, ItemStatus, Project
from annotate.selectors import pipeline_get
from annotate.selectors_loop import (
    ground_truth_count,
    ground_truth_pending_embedding,
    item_embeddings_done,
    item_scores_unlabeled,
    items_pending_scoring,
    label_counts_ground_truth,
)
from annotate.services.predictions import (
    ItemPredictions,
    ItemScore,
    Priority,
    item_embeddings_store,
    item_predictions_replace,
    item_priorities_set,
    pipeline_selection_batch,
)
from ml import config as ml_config
from ml import scores, selection
from ml.embeddings import pixel_embedding
from ml.geometry import GeometryError, box_iou, validate_shape
from models_mgmt.models import ModelVersion
from models_mgmt.selectors import best_model
from models_mgmt.services.backend import get_backend
from models_mgmt.services.ood import ood_percentiles, ood_reference
from runs import queues
from runs.db import retry_busy
from runs.models import Job, JobKind
from runs.selectors import run_get
from runs.services import (
    run_execute,
    run_heartbeat_or_stop,
    run_request,
)

logger = logging.getLogger(__name__)


def scoring_request(*, project: Project, actor=None) -> Job | None:
    """Queue a scoring run for the project unless one is already queued.

    A queued run picks up every item that needs scoring when it starts, so a
    second request while one waits adds nothing. While one is running, the
    running one loops until no item is left unscored.
    """
    return run_request(
        project=project,
        kind=JobKind.SCORE,
        task="models_mgmt.tasks.run_scoring",
        queue=queues.WORK,
        actor=actor,
    )


def _pending_items(project: Project, model: ModelVersion | None):
    return items_pending_scoring(
        project=project, model_version_id=model.pk if model else None
    )


def _labelled_pending(project: Project, model: ModelVersion | None):
    return ground_truth_pending_embedding(
        project=project, model_version_id=model.pk if model else None
    )


def _score_and_prioritise(job: Job) -> dict:
    scored, embedded = _score_project(job)
    prioritise_project(project=job.project)
    return {"scored": scored, "ground_truth_embedded": embedded}


def scoring_run(job_id: int) -> None:
    """Worker side of a scoring run; idempotent. Ends succeeded or failed; a
    cancelled or reaped run stops at its next heartbeat (after a batch)."""
    if not run_execute(job_id, _score_and_prioritise, name="scoring"):
        return
    # A model promoted after this run's last page but before its finish found
    # it active and queued nothing (scoring_request): its scores would never
    # come. Once finished, a request goes through, so ask again if needed.
    project = run_get(run_id=job_id).project
    if _pending_items(project, best_model(project=project)).exists():
        scoring_request(project=project)


def _score_project(job: Job) -> tuple[int, int]:
    """Score the unlabelled pool with the best model, page by page, then embed
    the ground truth with it (the newest REFERENCE_LIMIT items by id not yet in
    its space: what diversity, similar-item search and the map compare with);
    before any model, both get pixel embeddings (ground truth only where it
    has none).
    Returns (unlabelled items scored, ground-truth items embedded)."""
    project = job.project
    batch = settings.ALWEB_SCORING_BATCH
    done = embedded = 0
    # The OOD reference (pixel embeddings of the train split), fitted once per
    # run, when the first page is scored with a model.
    references: dict = {}
    while True:
        # The best model of now, every page: one promoted while this run goes on
        # gets no run of its own (scoring_request finds this one active), so
        # this one scores the pool again with it.
        model = best_model(project=project)
        # One model load and one prediction stream per page; writes per batch.
        pending = list(_pending_items(project, model)[: batch * 32])
        # The ground truth after the pool: its embedding only.
        labelled = (
            [] if pending else list(_labelled_pending(project, model)[: batch * 32])
        )
        if not pending and not labelled:
            return done, embedded
        total = (
            done
            + embedded
            + _pending_items(project, model).count()
            + _labelled_pending(project, model).count()
        )
        if pending and model is not None and "ood" not in references:
            references["ood"] = ood_reference(project=project)
        page = labelled or pending
        if model is None:
            chunks = ((page[i : i + batch], None) for i in range(0, len(page), batch))
        elif labelled:
            chunks = _embedded_chunks(model, labelled, batch)
        else:
            chunks = _predicted_chunks(project, model, pending, batch)
        for chunk, predictions in chunks:
            if labelled:
                if model is None:
                    _embed_cold(project, chunk, only_status=ItemStatus.DONE)
                else:
                    _store_labelled_embeddings(project, model, chunk, predictions)
                embedded += len(chunk)
            elif model is None:
                _embed_cold(project, chunk)
                done += len(chunk)
            else:
                _store_scores(project, model, chunk, predictions, references.get("ood"))
                done += len(chunk)
            run_heartbeat_or_stop(
                job.pk,
                progress=0.95 * (done + embedded) / max(total, 1),
                message=f"{done + embedded}/{total} items",
            )


def _embedded_chunks(model: ModelVersion, items: list[Item], batch: int):
    """Yield (items, predictions) per `batch` from one embedding stream."""
    stream = _stream(model, items, batch, embed=True)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        yield chunk, [next(stream) for _ in chunk]


def _store_labelled_embeddings(
    project: Project, model: ModelVersion, items: list[Item], predictions
) -> None:
    """The model's feature embeddings of ground-truth items, with scored_by:
    never pre-annotations, scores, status or annotations (items reopened
    meanwhile are left to be scored as unlabelled)."""
    embeddings = {
        item.pk: pred.embedding or None
        for item, pred in zip(items, predictions, strict=True)
    }
    retry_busy(
        lambda: item_embeddings_store(
            project=project,
            embeddings=embeddings,
            model_version_id=model.pk,
            only_status=ItemStatus.DONE,
        )
    )


def _embed_cold(
    project: Project, items: list[Item], only_status: str | None = None
) -> None:
    """Before any model: cheap pixel embeddings for the diversity cold start
    (of the unlabelled pool, and of ground truth that never had one)."""
    embeddings = {item.pk: list(pixel_embedding(item.file.path)) for item in items}
    retry_busy(
        lambda: item_embeddings_store(
            project=project, embeddings=embeddings, only_status=only_status
        )
    )


def _stream(model: ModelVersion, items: list[Item], batch: int, **kw):
    cfg = ml_config.validate_model_config(
        model.config or {"architecture": model.architecture or "yolov8n.yaml"}
    )
    return get_backend().score_images(
        Path(model.weights.path),
        [item.file.path for item in items],
        imgsz=cfg["imgsz"],
        conf=cfg["conf"],
        device=cfg["device"],
        batch=batch,
        **kw,
    )


def _committee_member(model: ModelVersion) -> ModelVersion | None:
    """The previous version the committee compares with: the best model's
    parent, when it finished with weights."""
    parent = model.parent
    if parent is not None and parent.status == "done" and parent.weights:
        return parent
    return None


def _predicted_chunks(
    project: Project, model: ModelVersion, items: list[Item], batch: int
):
    """Yield (items, predictions) per `batch` from one stream over all `items`.

    Each prediction is (the best model's, the previous version's or None, the
    mirror image's or None): the last two only when the strategy asks for
    committee disagreement or localisation stability (each costs one more
    forward pass per image)."""
    strategy = selection.STRATEGIES.get(pipeline_get(project=project).strategy)
    member = _committee_member(model) if strategy and strategy.needs_committee else None
    main = _stream(model, items, batch, embed=True)
    other = _stream(member, items, batch, embed=False) if member else None
    flip = (
        _stream(model, items, batch, embed=False, flip=True)
        if strategy and strategy.needs_flip
        else None
    )
    chunk, preds = [], []
    for item in items:
        chunk.append(item)
        preds.append(
            (
                next(main),
                next(other) if other is not None else None,
                next(flip) if flip is not None else None,
            )
        )
        if len(chunk) == batch:
            yield chunk, preds
            chunk, preds = [], []
    if chunk:
        yield chunk, preds


def _store_scores(
    project: Project,
    model: ModelVersion,
    items: list[Item],
    predictions,
    reference=None,
) -> None:
    pipeline = pipeline_get(project=project)
    params = selection.validate_strategy_params(
        pipeline.strategy, pipeline.strategy_params
    )
    method = selection.STRATEGIES[pipeline.strategy].method_for(params) or "entropy"
    aggregate = params.get("aggregate", "max")
    weights = scores.class_weights(
        project.labels, label_counts_ground_truth(project=project)
    )
    rows = []
    oods = ood_percentiles(
        reference,
        [item.file.path for item in items],
        [getattr(pred, "pixel_embedding", None) for pred, _, _ in predictions],
    )
    for item, (pred, previous, mirrored), ood_score in zip(
        items, predictions, oods, strict=True
    ):
        components = {
            "rare": round(
                scores.rare_boost(pred.detections, project.labels, weights), 6
            )
        }
        if previous is not None:
            components["disagreement"] = round(
                scores.disagreement(pred.detections, previous.detections), 6
            )
        if mirrored is not None:
            components["instability"] = round(
                scores.instability(pred.detections, mirrored.detections, pred.width), 6
            )
        if ood_score is not None:
            components["ood"] = ood_score
        rows.append(
            ItemPredictions(
                item_id=item.pk,
                shapes=_pre_annotations(project, item, pred.detections),
                score=ItemScore(
                    uncertainty=scores.uncertainty(pred.detections, method, aggregate),
                    embedding=pred.embedding or None,
                    components=components,
                ),
            )
        )
    # Only items still unlabelled get new pre-annotations; claimed ones are left.
    retry_busy(
        lambda: item_predictions_replace(
            project=project,
            model_version_id=model.pk,
            model_name=model.name,
            predictions=rows,
            only_unlabeled=True,
        )
    )


def _pre_annotations(project, item, detections) -> list[dict]:
    """The detections worth showing the annotator, as validated shapes with their
    confidence and class scores: the more confident first, without the
    duplicates (a box of the same label overlapping a shown one by
    ALWEB_PREANNOTATION_MAX_IOU or more), which a young model piles up."""
    out = []
    shown_boxes: list[tuple[str, tuple]] = []
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
    )
    for det in shown:
        if len(out) >= settings.ALWEB_PREANNOTATION_MAX_PER_ITEM:
            break
        if det.label not in project.labels:
            continue
        if any(
            label == det.label
            and box_iou(bbox, det.bbox) >= settings.ALWEB_PREANNOTATION_MAX_IOU
            for label, bbox in shown_boxes
        ):
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
        shown_boxes.append((det.label, det.bbox))
        clean["confidence"] = round(det.confidence, 4)
        clean["class_scores"] = [round(s, 4) for s in det.class_scores]
        out.append(clean)
    return out


def prioritise_project(*, project: Project) -> int:
    """Recompute queue priorities of all unlabelled items with the project's strategy
    (or its cold-start strategy before any model exists). Each priority keeps its
    reason: the strategy, the model version, when, its rank, whether it is in the
    batch or a random control pick, and the scores behind it. Returns the count."""
    pipeline = pipeline_get(project=project)
    model = best_model(project=project)
    strategy = pipeline.strategy if model else pipeline.cold_start_strategy
    params = pipeline.strategy_params if model else {}
    rows = item_scores_unlabeled(project=project)
    ood_of = {
        pk: comp["ood"]
        for pk, _, _, comp in rows
        if isinstance(comp, dict) and isinstance(comp.get("ood"), int | float)
    }
    candidates = [
        selection.Candidate(pk, unc, tuple(emb) if emb else None, comp or {})
        for pk, unc, emb, comp in rows
    ]
    reference = None
    if selection.STRATEGIES[strategy].needs_embeddings:
        reference = [
            e
            for e in item_embeddings_done(
                project=project, model_version_id=model.pk if model else None
            )
            if e and (not rows or not rows[0][2] or len(e) == len(rows[0][2]))
        ]
    labelled = ground_truth_count(project=project)
    batch_index = retry_busy(
        lambda: pipeline_selection_batch(
            project=project, model_version_id=model.pk if model else None
        )
    )
    try:
        picked = selection.select(
            strategy,
            candidates,
            params,
            pipeline.split_seed,
            reference_embeddings=reference or None,
            batch_index=batch_index,
            labelled=labelled,
        )
    except ValueError:
        logger.warning("strategy %s failed; falling back to random", strategy)
        strategy = "random"
        picked = selection.select("random", candidates, {}, pipeline.split_seed)
    now = timezone.now().isoformat()
    ood_above = pipeline.ood_threshold
    base = {
        "strategy": strategy,
        "cold_start": model is None,
        "model_version": model.pk if model else None,
        "model_name": model.name if model else None,
        "batch": batch_index,
        "warmup": picked.warmup,
        "ground_truth": labelled,
        **({"warmup_until": picked.params["warmup"]} if picked.warmup else {}),
        "at": now,
    }
    values = {
        pk: Priority(
            float(p.priority),
            {
                **base,
                "rank": p.rank,
                "in_batch": p.in_batch,
                "control": p.control,
                "components": p.components,
                **(
                    {"ood": ood_of[pk], "ood_flagged": ood_of[pk] > ood_above}
                    if pk in ood_of
                    else {}
                ),
            },
        )
        for pk, p in picked.picks.items()
    }
    return retry_busy(lambda: item_priorities_set(project=project, priorities=values))
