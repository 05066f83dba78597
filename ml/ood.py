"""Out-of-distribution scores: how far an item lies from the training set's embeddings.

An item's **kNN distance** is its mean cosine distance to its ``k`` nearest
training embeddings (default 5; ml.similarity, exact). It is scaled by the
training set's own distribution of **leave-one-out** kNN distances (each
training item against all the others):

* ``percentile``: the share of training items whose leave-one-out distance
  is at most the item's (0 = as typical as the most typical training item,
  1 = farther than every one);
* ``ratio``: distance / ``threshold``, where ``threshold`` is the
  ``quantile`` (default 0.95) of the leave-one-out distances;
* ``flagged``: distance > threshold, so about 5 % of items drawn like the
  training set are flagged, and anything new far more often.

Any embedding works. On generated scenes (bench/RESULTS.md, #14) the pixel
embeddings of ml.embeddings flagged 99.7 % of another generator's images and
4.6 % of held-out ones; the detector's pooled embedding flagged only 56 % of
the other generator's.

Score items that are not in the training set (an item in it is its own
nearest neighbour at distance 0); the training items' own scores are the
leave-one-out distances (``OODReference.loo``). :func:`drift` summarises the
share of flagged items per time bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ml.similarity import knn, unit_rows

DEFAULT_K = 5
DEFAULT_QUANTILE = 0.95


@dataclass(frozen=True, eq=False)
class OODReference:
    """The training embeddings (unit rows), ``k``, each training row's
    leave-one-out kNN distance (``loo``, in row order) and the threshold."""

    train: np.ndarray
    k: int
    loo: np.ndarray
    quantile: float
    threshold: float


@dataclass(frozen=True, eq=False)
class OODScores:
    """Per scored item, in input order (see the module docstring)."""

    distance: np.ndarray
    percentile: np.ndarray
    ratio: np.ndarray
    flagged: np.ndarray


def fit_reference(
    train_embeddings: np.ndarray,
    *,
    k: int = DEFAULT_K,
    quantile: float = DEFAULT_QUANTILE,
) -> OODReference:
    """The reference distribution of the training set.

    Raises ValueError with fewer than 2 training rows, k < 1, or a quantile
    outside (0, 1). With k >= the number of rows, k becomes rows - 1.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError("quantile must be in (0, 1)")
    if k < 1:
        raise ValueError("k must be at least 1")
    train = unit_rows(train_embeddings)
    if train.shape[0] < 2:
        raise ValueError("need at least 2 training embeddings")
    k = min(k, train.shape[0] - 1)
    _, dist = knn(train, train, k, skip_self=True)
    loo = dist.mean(axis=1)
    threshold = float(np.quantile(loo, quantile))
    return OODReference(train, k, loo, quantile, threshold)


def knn_distance(ref: OODReference, embeddings: np.ndarray) -> np.ndarray:
    """Mean cosine distance of each row to its ``ref.k`` nearest training rows."""
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim == 2 and emb.shape[0] == 0:
        return np.zeros(0)
    if emb.ndim != 2 or emb.shape[1] != ref.train.shape[1]:
        raise ValueError(f"embeddings must be rows of {ref.train.shape[1]} values")
    _, dist = knn(emb, ref.train, ref.k)
    return dist.mean(axis=1)


def ood_scores(ref: OODReference, embeddings: np.ndarray) -> OODScores:
    """Distance, percentile, ratio and flag of each row (module docstring)."""
    d = knn_distance(ref, embeddings)
    ordered = np.sort(ref.loo)
    percentile = np.searchsorted(ordered, d, side="right") / ordered.shape[0]
    ratio = d / ref.threshold if ref.threshold > 0 else np.where(d > 0, np.inf, 0.0)
    return OODScores(d, percentile, ratio, d > ref.threshold)


@dataclass(frozen=True)
class DriftBucket:
    """Items whose timestamp falls in [start, start + width)."""

    start: datetime
    count: int
    flagged: int

    @property
    def share(self) -> float:
        return self.flagged / self.count


def drift(
    flagged: Sequence[bool],
    timestamps: Sequence[datetime],
    width: timedelta = timedelta(days=1),
) -> list[DriftBucket]:
    """The share of flagged items per time bucket of ``width``, oldest first;
    only buckets that hold items.

    Buckets are aligned on 1970-01-01 (UTC for aware timestamps, which are
    converted to UTC; naive ones are taken as they are). Raises ValueError
    when the lengths differ, width is not positive, or aware and naive
    timestamps are mixed.
    """
    if len(flagged) != len(timestamps):
        raise ValueError("need one timestamp per item")
    if width <= timedelta(0):
        raise ValueError("width must be positive")
    aware = {t.tzinfo is not None and t.utcoffset() is not None for t in timestamps}
    if len(aware) > 1:
        raise ValueError("timestamps mix aware and naive datetimes")
    origin = datetime(1970, 1, 1, tzinfo=UTC if aware == {True} else None)
    counts: dict[int, list[int]] = {}
    for flag, ts in zip(flagged, timestamps, strict=True):
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC)
        slot = counts.setdefault((ts - origin) // width, [0, 0])
        slot[0] += 1
        slot[1] += bool(flag)
    return [
        DriftBucket(origin + n * width, c, f) for n, (c, f) in sorted(counts.items())
    ]
