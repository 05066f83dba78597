"""Writes that the model loop makes to labelling data: an item's model
pre-annotations and scores, embeddings, and queue priorities with their reason.

models_mgmt's scoring stores predictions through item_predictions_replace, a
file import of predictions through item_predictions_writer; nothing else
writes model annotations.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from annotate.models import Annotation, AnnotationSource, Item, ItemStatus, Project
from annotate.services.annotations import AnnotationRows, annotations_clear
from annotate.shapes import shape_geometry


@dataclass(frozen=True)
class ItemScore:
    """What a model says of an image as a whole: its uncertainty and embedding,
    and further scores in [0, 1] (ml.scores: "rare", "disagreement",
    "instability") where scoring computed them."""

    uncertainty: float | None
    embedding: Sequence[float] | None = None
    components: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemPredictions:
    """Model shapes for one item (validated, in the API's form, with optional
    `area`, `confidence` and `class_scores`), and optionally its score."""

    item_id: int
    shapes: Sequence[dict]
    score: ItemScore | None = None


@dataclass(frozen=True)
class Priority:
    """A queue priority (higher first) and why: e.g. {"strategy": "entropy",
    "components": {"uncertainty": 0.7}, "random_control": false}."""

    value: float
    reason: Mapping = field(default_factory=dict)


@transaction.atomic
def item_predictions_replace(
    *,
    project: Project,
    model_version_id: int,
    predictions: Sequence[ItemPredictions],
    only_unlabeled: bool,
    model_name: str = "",
) -> set[int]:
    """Make `predictions` the model annotations of their items (source
    "model:<model_version_id>", and the version's `model_name` as users know
    it); human annotations stay. Where a prediction
    carries a score, the item's uncertainty, embedding, scored_by and scored_at
    are set too.

    With `only_unlabeled` (scoring), items no longer unlabelled (claimed or
    labelled meanwhile) are left untouched. Items of other projects are ignored.
    Returns the ids written.
    """
    items = Item.objects.filter(
        project=project, pk__in=[p.item_id for p in predictions]
    )
    if only_unlabeled:
        items = items.filter(status=ItemStatus.UNLABELED)
    ids = set(items.values_list("pk", flat=True))
    Annotation.objects.filter(
        item_id__in=ids, source=AnnotationSource.MODEL, accepted=False
    ).delete()
    Annotation.objects.bulk_create(
        Annotation(
            item_id=p.item_id,
            kind=shape["kind"],
            label=shape["label"],
            geometry=shape_geometry(shape),
            area=shape.get("area", 0.0),
            source=AnnotationSource.MODEL,
            model_version_id=model_version_id,
            model_name=model_name[:100],
            confidence=shape.get("confidence"),
            class_scores=shape.get("class_scores"),
        )
        for p in predictions
        if p.item_id in ids
        for shape in p.shapes
    )
    now = timezone.now()
    _update_items(
        ("uncertainty", "embedding", "scored_by", "scored_at", "score_components"),
        (
            (
                p.item_id,
                p.score.uncertainty,
                list(p.score.embedding) if p.score.embedding else None,
                model_version_id,
                now,
                dict(p.score.components),
            )
            for p in predictions
            if p.item_id in ids and p.score is not None
        ),
    )
    return ids


def _update_items(fields: Sequence[str], rows, where: Mapping | None = None) -> int:
    """UPDATE items by primary key, one parametrised statement run for all
    `rows` ((pk, value per field), ...): values go through each field's own
    database preparation, as the ORM's save does. `where` ({column: value})
    adds conditions every row must also meet. Returns the count of rows
    updated.

    Not bulk_update: its CASE WHEN per field and row cost 3x as much Python
    per batch of 16 scored items (15.8 ms vs 5.1 ms for single-row UPDATEs)
    and grows with the batch (SQLite evaluates the CASE for every row): the
    queue priorities of 10,000 items took 4-11 s (bench/scoring.py)."""
    sql, params = _update_statement(fields, rows, where or {})
    if not params:
        return 0
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


def _update_statement(fields: Sequence[str], rows, where: Mapping):
    """_update_items' SQL and its parameters, one list per row (no query run)."""
    opts = Item._meta
    columns = [opts.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s{}".format(
        quote(opts.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in columns),
        quote(opts.pk.column),
        "".join(f" AND {quote(column)} = %s" for column in where),
    )
    extra = list(where.values())
    params = [
        [
            *(
                f.get_db_prep_save(v, connection)
                for f, v in zip(columns, values, strict=True)
            ),
            pk,
            *extra,
        ]
        for pk, *values in rows
    ]
    return sql, params


@transaction.atomic
def item_embeddings_store(
    *,
    project: Project,
    embeddings: Mapping[int, Sequence[float] | None],
    model_version_id: int | None = None,
    only_status: str | None = None,
) -> int:
    """Store image embeddings on items of `project`, with the space they are
    in: scored_by = `model_version_id` (a model's feature embeddings) or None
    (before any model: the diversity cold start's pixel embeddings); a model's
    also sets scored_at. Nothing else of the item changes (no annotations,
    status, uncertainty or priority). With `only_status`, items no longer in
    that status are left untouched (scoring embeds ground truth with it: an
    item reopened meanwhile is scored as unlabelled instead). Returns the
    count written."""
    items = Item.objects.filter(project=project, pk__in=list(embeddings))
    if only_status is not None:
        items = items.filter(status=only_status)
    ids = set(items.values_list("pk", flat=True))
    if model_version_id is None:
        fields, extra = ("embedding", "scored_by"), (None,)
    else:
        fields = ("embedding", "scored_by", "scored_at")
        extra = (model_version_id, timezone.now())
    return _update_items(
        fields,
        (
            (pk, list(emb) if emb else None, *extra)
            for pk, emb in embeddings.items()
            if pk in ids
        ),
    )


# Items whose priorities one transaction writes (item_priorities_set), and the
# pause after each chunk but the last, outside any transaction: a claim or
# submit waiting for SQLite's write lock (alweb.sqlite asks again every ms)
# gets it in the gap instead of behind the next chunk (back to back, a
# rewrite at 100k items took claim-next's p95 from 53 to 204 ms in
# bench/drill_annotators.py); PostgreSQL's row locks free as well. A chunk of
# 1,000 held SQLite's lock ~60 ms (half of it the COMMIT writing the index
# pages its random priorities touch), 250 ~15 ms. 100 with a 20 ms pause
# (was 250 and 50 ms: the same share of the time under the lock, in shorter
# holds) cut the drill's BEGIN-wait p95 from 8.5-9.0 to 4.5-5.9 ms for
# claim-next and 10.4-12.1 to 7.2-7.9 for submit, 4 % more time per rewrite.
PRIORITY_CHUNK = 100
PRIORITY_PAUSE = 0.02  # seconds


def _pause() -> None:
    time.sleep(PRIORITY_PAUSE)


def item_priorities_set(
    *, project: Project, priorities: Mapping[int, float | Priority]
) -> int:
    """Set the queue priority of items of `project` (a number, or a Priority with
    its reason, stored as Item.priority_reason; a bare number clears the reason).
    Items a manager pinned or demoted (Item.pin) are left alone. Returns the
    count written.

    Written PRIORITY_CHUNK items per transaction, not all at once: one
    transaction of 83,000 priorities held SQLite's only write lock for 4.5 s
    (PostgreSQL's row locks for 14.6 s), and every claim, autosave and submit
    waited behind it (bench/drill_annotators.py). While a rewrite runs, the
    queue mixes old and new priorities for a moment; a claim takes the highest
    at its time, and a retry of the whole call writes the same values. Between
    chunks it pauses PRIORITY_PAUSE s with no transaction open, so the writers
    waiting for the lock take their turn. Each chunk's parameters (the reasons'
    JSON) are made before its transaction opens, and the UPDATE itself skips
    pinned items and other projects' (no read inside the transaction)."""
    ids = sorted(priorities)
    written = 0
    where = {"project_id": project.pk, "pin": ""}
    for start in range(0, len(ids), PRIORITY_CHUNK):
        if start and not connection.in_atomic_block:
            _pause()  # the web's writers go first
        rows = []
        for pk in ids[start : start + PRIORITY_CHUNK]:
            value = priorities[pk]
            if not isinstance(value, Priority):
                value = Priority(float(value))
            rows.append((pk, float(value.value), dict(value.reason)))
        sql, params = _update_statement(("priority", "priority_reason"), rows, where)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, params)
            written += cursor.rowcount
    return written


@transaction.atomic
def pipeline_selection_batch(*, project: Project, model_version_id: int | None) -> int:
    """The index of the batch the strategy selects now: it advances by one each
    time a new model (another `model_version_id`) orders the queue, and stays
    while the same model re-orders it (new uploads). Returns the index
    (0-based) for ml.selection.select's `batch_index`."""
    from annotate.models import Pipeline

    pipeline, _ = Pipeline.objects.select_for_update().get_or_create(project=project)
    if model_version_id is not None and pipeline.selection_model_id != model_version_id:
        if pipeline.selection_model_id is not None:
            pipeline.selection_batches += 1
        pipeline.selection_model_id = model_version_id
        pipeline.save(update_fields=["selection_batches", "selection_model_id"])
    return pipeline.selection_batches


def item_predictions_writer(*, item_ids, model_version_id: int) -> AnnotationRows:
    """Begin replacing the model annotations of these items (of one project, as
    the caller checked) with shapes streamed from a file: deletes their model
    annotations now and returns the writer each new shape is added to (source
    "model:<model_version_id>", its `confidence` kept); the caller flushes it.
    Human annotations stay. Inside the caller's transaction."""
    annotations_clear(item_ids=item_ids, source=AnnotationSource.MODEL)
    return AnnotationRows(
        source=AnnotationSource.MODEL, model_version_id=model_version_id
    )
