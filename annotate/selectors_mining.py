"""Reads for similar-item mining and data drift: the unlabelled pool's embeddings
(bounded), the items nearest to one item or a bucket, and the share of
out-of-distribution items per week."""

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, TextField, Value
from django.db.models.functions import Cast

from alweb.exceptions import Conflict
from annotate.models import Item, ItemStatus, Project
from annotate.selectors import pipeline_get
from ml import thresholds
from ml.similarity import MODES, EmbeddingIndex

K_DEFAULT = 50
K_MAX = 500
MAX_QUERY_ITEMS = 500
# The pool searched: at most this many unlabelled items (the first by id), read
# in chunks into one float32 matrix (100,000 x 256 = 98 MiB).
MAX_POOL = 100_000
POOL_CHUNK = 2000
# The defaults of the project settings Pipeline.ood_threshold and
# drift_warn_share (ml.thresholds): an item whose "ood" score (the share of
# training items nearer to the training set than it is, ml.ood's percentile) is
# above the first counts as out of distribution (ml.ood flags about 5 % of
# items drawn like the training set); the drift panel warns when a week's share
# of such items is above the second.
OOD_THRESHOLD = thresholds.DEFAULTS["ood"]
DRIFT_WARN_SHARE = thresholds.DEFAULTS["drift_warn_share"]
DRIFT_WEEKS = 12


@dataclass(frozen=True)
class SimilarItem:
    item: Item
    distance: float


def id_list(ids) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def parse_k(value) -> int:
    """`k` from a query string or body: a whole number in 1..K_MAX (default
    K_DEFAULT when empty). ValidationError with the field otherwise."""
    if value in (None, ""):
        return K_DEFAULT
    try:
        k = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({"k": "k must be a whole number"}) from None
    if not 1 <= k <= K_MAX:
        raise ValidationError({"k": f"k must be between 1 and {K_MAX}"})
    return k


def parse_mode(value) -> str:
    mode = value or "centroid"
    if mode not in MODES:
        raise ValidationError({"mode": f"mode must be one of {', '.join(MODES)}"})
    return mode


def parse_item_ids(values, field: str = "items") -> list[int]:
    """Distinct item ids in the order given; ValidationError under `field`."""
    if not isinstance(values, list | tuple):
        raise ValidationError({field: "expected a list of item ids"})
    try:
        ids = list(dict.fromkeys(int(v) for v in values if not isinstance(v, bool)))
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({field: "item ids must be whole numbers"}) from None
    if not ids:
        raise ValidationError({field: "give at least one item"})
    if len(ids) > MAX_QUERY_ITEMS:
        raise ValidationError({field: f"at most {MAX_QUERY_ITEMS} items at once"})
    return ids


def item_embeddings(
    *, project: Project, item_ids: list[int], field: str = "items"
) -> np.ndarray:
    """The embeddings of `item_ids` (items of `project`), one row each in the
    order given. ValidationError for ids that are not items of the project;
    Conflict (409) when some have no embedding yet or they are not all in one
    space (embedded by different models, or some by pixels before any)."""
    return _embeddings_in_one_space(project, item_ids, field)[0]


def _embeddings_in_one_space(
    project: Project, item_ids: list[int], field: str
) -> tuple[np.ndarray, int | None]:
    """(item_embeddings's rows, the model whose space they are in: scored_by,
    None for the cold start's pixel embeddings)."""
    rows = {
        pk: (emb, space)
        for pk, emb, space in Item.objects.filter(
            project=project, pk__in=item_ids
        ).values_list("pk", "embedding", "scored_by")
    }
    unknown = [i for i in item_ids if i not in rows]
    if unknown:
        raise ValidationError({field: f"not items of this project: {id_list(unknown)}"})
    missing = [
        i for i in item_ids if not isinstance(rows[i][0], list) or not rows[i][0]
    ]
    if missing:
        raise Conflict(
            f"no embedding yet for item {id_list(missing)}: embeddings come with "
            "scoring (pixel embeddings before the first model, the detector's after)",
            items=missing,
        )
    spaces = {rows[i][1] for i in item_ids}
    if len({len(rows[i][0]) for i in item_ids}) > 1 or len(spaces) > 1:
        raise Conflict(
            "these items' embeddings come from different models; "
            "wait for the next scoring run",
            items=item_ids,
        )
    bad = [
        i
        for i in item_ids
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in rows[i][0]
        )
    ]
    if bad:
        raise Conflict(
            f"the embedding of item {id_list(bad)} is not a list of finite "
            "numbers; score the project again",
            items=bad,
        )
    vectors = np.asarray([rows[i][0] for i in item_ids], dtype=np.float32)
    return vectors, spaces.pop()


def embedding_rows(texts: list[str], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, kept): the JSON arrays in `texts` that hold `dim` finite numbers,
    as float32 rows, and the mask of the texts kept. One C parse per chunk
    (np.fromstring): the pool reads 5x faster than through the JSON field's
    decoding per row (bench/similar_items.py)."""
    inner = [t.strip()[1:-1] for t in texts]
    kept = np.array(
        [
            t.startswith("[") and "[" not in i and i.count(",") == dim - 1
            for t, i in zip((t.strip() for t in texts), inner, strict=True)
        ],
        dtype=bool,
    )
    joined = ",".join(i for i, k in zip(inner, kept, strict=True) if k)
    try:
        values = np.fromstring(joined, dtype=np.float32, sep=",") if joined else None
    except ValueError:
        values = None
    if values is None or values.size != int(kept.sum()) * dim:
        # Something unusual in the text (null, a string): decode row by row.
        rows = [json.loads(t) for t in texts]
        kept = np.array(
            [
                isinstance(r, list)
                and len(r) == dim
                and all(isinstance(v, int | float) for v in r)
                for r in rows
            ],
            dtype=bool,
        )
        values = np.array([r for r, k in zip(rows, kept, strict=True) if k])
    rows = values.astype(np.float32).reshape(-1, dim)
    finite = np.isfinite(rows).all(axis=1)
    kept[np.flatnonzero(kept)[~finite]] = False
    return rows[finite], kept


# pool_index's `space` when the caller compares with any embedding of `dim`.
ANY_SPACE = object()


def pool_index(
    *,
    project: Project,
    dim: int,
    exclude=(),
    status=ItemStatus.UNLABELED,
    space=ANY_SPACE,
) -> EmbeddingIndex:
    """The items of `project` in `status` (the unlabelled pool by default; the
    ground truth for similar mistakes) with an embedding of `dim` finite
    values (the first MAX_POOL by id, `exclude` left out), read POOL_CHUNK rows
    at a time (as JSON text, parsed in C) into one float32 matrix. With
    `space` (a model version id, or None for pixel embeddings), only
    embeddings of that space (scored_by): another model's are not
    comparable, even of the same size."""
    qs = (
        Item.objects.filter(project=project, status=status, embedding__isnull=False)
        .exclude(pk__in=list(exclude))
        .order_by("id")
    )
    if space is None:
        qs = qs.filter(scored_by__isnull=True)
    elif space is not ANY_SPACE:
        qs = qs.filter(scored_by=space)
    size = min(qs.count(), MAX_POOL)
    matrix = np.zeros((size, dim), dtype=np.float32)
    ids: list[int] = []
    rows = qs.annotate(text=Cast("embedding", TextField())).values_list("pk", "text")
    chunk: list[tuple[int, str]] = []
    for row in rows[:size].iterator(chunk_size=POOL_CHUNK):
        chunk.append(row)
        if len(chunk) == POOL_CHUNK:
            _fill(matrix, ids, chunk, dim)
            chunk = []
    _fill(matrix, ids, chunk, dim)
    return EmbeddingIndex(ids, matrix[: len(ids)])


def _fill(matrix: np.ndarray, ids: list[int], chunk, dim: int) -> None:
    if not chunk:
        return
    vectors, kept = embedding_rows([text for _, text in chunk], dim)
    matrix[len(ids) : len(ids) + vectors.shape[0]] = vectors
    ids.extend(pk for (pk, _), k in zip(chunk, kept, strict=True) if k)


def item_similar(
    *, project: Project, item_ids: list[int], k=K_DEFAULT, mode="centroid"
) -> list[SimilarItem]:
    """The `k` unlabelled items nearest to `item_ids` by cosine distance of
    their embeddings (one item, or a bucket queried by its centroid or as a
    union: ml.similarity), nearest first; the query items themselves left out.
    Only items embedded in the query's space (the same scored_by) are searched.
    Raises ValidationError for bad `k` / `mode` / ids, Conflict for query items
    without an embedding (item_embeddings)."""
    k, mode = parse_k(k), parse_mode(mode)
    return _nearest(project, parse_item_ids(item_ids), k, mode, ItemStatus.UNLABELED)


def labelled_similar(*, project: Project, item_id: int, k=K_DEFAULT) -> list:
    """The `k` ground-truth (done) items nearest to item `item_id` by cosine
    distance of the stored embeddings (the same search as item_similar, over
    the labelled data), nearest first, the item itself left out: where a
    confirmed label error may have company. Raises as item_similar does."""
    return _nearest(project, [item_id], parse_k(k), "centroid", ItemStatus.DONE)


def _nearest(project, ids, k: int, mode: str, status) -> list[SimilarItem]:
    queries, space = _embeddings_in_one_space(project, ids, "items")
    index = pool_index(
        project=project, dim=queries.shape[1], exclude=ids, status=status, space=space
    )
    if len(index) == 0:
        return []
    neighbours = index.query(queries, k, mode=mode)
    items = (
        Item.objects.filter(pk__in=[n.id for n in neighbours])
        .defer("embedding", "score_components")
        .in_bulk()
    )
    return [SimilarItem(items[n.id], n.distance) for n in neighbours]


def item_distances(
    *, project: Project, query_ids: list[int], item_ids: list[int], mode="centroid"
) -> dict[int, float]:
    """Cosine distance of each of `item_ids` to the query items (`mode` as in
    item_similar). Raises as item_embeddings does; Conflict when the two sets'
    embeddings are not of one space (size, or the model that embedded them)."""
    queries, space = _embeddings_in_one_space(project, query_ids, "similar_to")
    vectors, other = _embeddings_in_one_space(project, item_ids, "items")
    if vectors.shape[1] != queries.shape[1] or space != other:
        raise Conflict(
            "the chosen items' embeddings come from another model than the "
            "query's; search again",
            items=item_ids,
        )
    index = EmbeddingIndex(item_ids, vectors)
    dist = index.vector_distances(queries, parse_mode(mode))
    return {i: float(d) for i, d in zip(item_ids, dist, strict=True)}


@dataclass(frozen=True)
class DriftWeek:
    start: date
    uploaded: int
    scored: int
    flagged: int
    warn_share: float = DRIFT_WARN_SHARE

    @property
    def share(self) -> float | None:
        return self.flagged / self.scored if self.scored else None

    @property
    def warn(self) -> bool:
        return self.share is not None and self.share > self.warn_share


def drift_weeks(
    *,
    project: Project,
    today: date | None = None,
    weeks: int = DRIFT_WEEKS,
    pipeline=None,
) -> list[DriftWeek]:
    """Per week (Monday first, from midnight in the current time zone, UTC by
    default) of the last `weeks` with uploads: items uploaded, those with an
    "ood" score, and those above the project's OOD threshold
    (Pipeline.ood_threshold), each warning above its drift_warn_share.
    `pipeline`: the project's settings when the caller has them already.
    One query of three COUNTs per week over plain `created_at` bounds, no
    per-row date function (SQLite's TruncDate and __date are Python calls, ~1
    s of CPU at 100k items, #15): each a range of item_created_ood_idx with
    the score's own column (Item.ood), no JSON parsed, nothing sorted. At 100k
    items, half of them scored, on SQLite: 18 ms of CPU, against 85 ms when
    each scored row's JSON was read and the rows grouped by a CASE of the
    bounds (bench/dashboard_100k.py)."""
    from django.utils import timezone

    pipeline = pipeline or pipeline_get(project=project)
    today = today or timezone.now().date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    starts = [first + timedelta(weeks=w) for w in range(weeks + 1)]
    bounds = [timezone.make_aware(datetime.combine(d, time.min)) for d in starts]
    threshold = pipeline.ood_threshold
    per_week = [
        Item.objects.filter(
            project=project, created_at__gte=bounds[w], created_at__lt=bounds[w + 1]
        )
        .values("project")  # one group per week: the index's leading column
        .annotate(
            week=Value(w),
            uploaded=Count("pk"),
            scored=Count("ood"),
            flagged=Count("pk", filter=Q(ood__gt=threshold)),
        )
        .order_by()
        .values_list("week", "uploaded", "scored", "flagged")
        for w in range(weeks)
    ]
    counts = {
        week: (uploaded, scored, flagged)
        for week, uploaded, scored, flagged in per_week[0].union(
            *per_week[1:], all=True
        )
    }
    return [
        DriftWeek(starts[w], *counts[w], warn_share=pipeline.drift_warn_share)
        for w in range(weeks)
        if w in counts
    ]
