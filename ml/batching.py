"""Batch selection: which unlabelled images form the next batch, in what order.

Pure numpy on unit-normalised embeddings (distance between unit vectors is at
most 2). Every function is deterministic for its inputs and seed.

* :func:`kcenter_greedy`: farthest-first traversal from a reference set (the
  labelled images), optionally weighted by a per-row gain.
* :func:`dedup_order`: an order with near-duplicates (closer than a distance
  to an earlier pick) moved behind everything else.
* :func:`kmeans`: seeded k-means++ / Lloyd, for the typicality cold start.
* :func:`typical_picks`: TypiClust: the most typical row of each cluster,
  largest clusters first.
* :func:`control_slots`: how many picks of batch ``r`` go to the random
  control group so that over many batches the share is exact.
"""

from __future__ import annotations

import math

import numpy as np

MAX_DISTANCE = 2.0


def min_distances(emb: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Distance from each row of ``emb`` to its nearest ``reference`` row
    (MAX_DISTANCE without a reference)."""
    out = np.full(emb.shape[0], MAX_DISTANCE, dtype=np.float64)
    if reference is None or not len(reference) or not emb.shape[0]:
        return out
    for start in range(0, len(reference), 512):
        sims = emb @ reference[start : start + 512].T
        out = np.minimum(out, np.sqrt(np.clip(2.0 - 2.0 * sims.max(1), 0.0, 4.0)))
    return out


def kcenter_greedy(
    emb: np.ndarray,
    k: int,
    *,
    reference: np.ndarray | None = None,
    gain: np.ndarray | None = None,
    alpha: float = 0.0,
    start: int | None = None,
) -> list[int]:
    """Up to ``k`` row indices in pick order.

    Each pick maximises ``alpha * gain + (1 - alpha) * d / MAX_DISTANCE``
    where ``d`` is the distance to the reference and to earlier picks
    (``gain`` None or ``alpha`` 0: pure k-center). Without a reference and
    gain the first pick is ``start`` (default row 0). Ties go to the lower
    index.
    """
    n = emb.shape[0]
    k = min(k, n)
    if k <= 0:
        return []
    min_d = min_distances(emb, reference)
    picked = np.zeros(n, dtype=bool)
    order: list[int] = []
    first = None
    if (reference is None or not len(reference)) and (gain is None or alpha == 0):
        first = 0 if start is None else start
    for _ in range(k):
        if first is not None:
            nxt, first = first, None
        else:
            obj = min_d / MAX_DISTANCE
            if gain is not None and alpha:
                obj = alpha * gain + (1.0 - alpha) * obj
            obj = np.where(picked, -np.inf, obj)
            nxt = int(np.argmax(obj))
        order.append(nxt)
        picked[nxt] = True
        # einsum is single-threaded: a threaded BLAS mat-vec called in a loop
        # on a busy 2-core machine was up to 10x slower.
        sims = np.einsum("ij,j->i", emb, emb[nxt])
        min_d = np.minimum(min_d, np.sqrt(np.clip(2.0 - 2.0 * sims, 0.0, 4.0)))
    return order


def dedup_order(emb: np.ndarray, order: list[int], distance: float) -> list[int]:
    """``order`` with every row closer than ``distance`` to an earlier kept row
    moved to the end (in its original relative order)."""
    if distance <= 0 or not order:
        return list(order)
    kept: list[int] = []
    dropped: list[int] = []
    kept_rows = np.empty((0, emb.shape[1]))
    for i in order:
        if len(kept):
            d = np.sqrt(np.clip(2.0 - 2.0 * (kept_rows @ emb[i]), 0.0, 4.0)).min()
            if d < distance:
                dropped.append(i)
                continue
        kept.append(i)
        kept_rows = np.vstack([kept_rows, emb[i]])
    return kept + dropped


def distinct_prefix(
    emb: np.ndarray, order: list[int], distance: float, size: int
) -> list[int]:
    """The first ``size`` rows of ``order`` none of which is closer than
    ``distance`` to an earlier one (near-duplicates skipped)."""
    if distance <= 0:
        return list(order[:size])
    kept: list[int] = []
    rows = np.empty((size, emb.shape[1]))
    for i in order:
        if kept:
            sims = rows[: len(kept)] @ emb[i]
            if np.sqrt(np.clip(2.0 - 2.0 * sims.max(), 0.0, 4.0)) < distance:
                continue
        rows[len(kept)] = emb[i]
        kept.append(i)
        if len(kept) == size:
            break
    return kept


def kmeans(
    emb: np.ndarray, k: int, seed: int, iterations: int = 25
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres) of seeded k-means++ followed by Lloyd iterations."""
    n = emb.shape[0]
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centres = [emb[int(rng.integers(n))]]
    d2 = np.clip(2.0 - 2.0 * emb @ centres[0], 0.0, 4.0)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:
            idx = int(rng.integers(n))
        else:
            idx = int(rng.choice(n, p=d2 / total))
        centres.append(emb[idx])
        d2 = np.minimum(d2, np.clip(2.0 - 2.0 * emb @ emb[idx], 0.0, 4.0))
    c = np.asarray(centres)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        labels_new = np.argmax(emb @ c.T - 0.5 * (c * c).sum(1), axis=1)
        if np.array_equal(labels_new, labels) and _ > 0:
            break
        labels = labels_new
        for j in range(k):
            members = emb[labels == j]
            if len(members):
                c[j] = members.mean(0)
    return labels, c


def typical_picks(
    labels: np.ndarray, typ: np.ndarray, covered: np.ndarray | None = None
) -> list[int]:
    """The most typical row of each cluster, largest uncovered clusters first
    (TypiClust); ``covered`` marks clusters that already hold a labelled row."""
    clusters = np.unique(labels)
    sizes = {int(c): int((labels == c).sum()) for c in clusters}
    done = set() if covered is None else {int(c) for c in np.flatnonzero(covered)}
    order = sorted(sizes, key=lambda c: (c in done, -sizes[c], c))
    picks = []
    for c in order:
        rows = np.flatnonzero(labels == c)
        picks.append(int(rows[np.argmax(typ[rows])]))
    return picks


def control_slots(batch_size: int, share: float, batch_index: int) -> int:
    """Random control picks in batch number ``batch_index`` (0-based): the
    difference of ``floor((r + 1) * B * share)`` and ``floor(r * B * share)``,
    so the first R batches hold exactly ``floor(R * B * share)`` of them."""
    if batch_size <= 0 or share <= 0:
        return 0
    total = batch_size * share
    # The epsilon keeps 50 * 0.1 = 5.000000000000001 from losing a slot.
    now = math.floor((batch_index + 1) * total + 1e-9)
    before = math.floor(batch_index * total + 1e-9)
    return max(0, min(batch_size, now - before))


def interleave(picks: list[int], control: list[int]) -> list[tuple[int, bool]]:
    """Merge control picks evenly into the strategy's picks: (row, is_control)."""
    n = len(picks) + len(control)
    if not control:
        return [(p, False) for p in picks]
    out: list[tuple[int, bool]] = []
    step = n / len(control)
    slots = {min(n - 1, int(step * (j + 0.5))) for j in range(len(control))}
    it_p, it_c = iter(picks), iter(control)
    for pos in range(n):
        if pos in slots:
            nxt = next(it_c, None)
            if nxt is not None:
                out.append((nxt, True))
                continue
        nxt = next(it_p, None)
        if nxt is None:
            nxt = next(it_c)
            out.append((nxt, True))
        else:
            out.append((nxt, False))
    return out
