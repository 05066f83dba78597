"""The ranking functions behind the selection strategies (ml.selection).

Each gets the pool as arrays (`Pool`: sorted ids, uncertainty with NaN for
unknown, further score components, unit-row embeddings, the labelled reference,
seeded per-item jitter), the validated params and a seed, and returns the row
order it ranks plus per-row extra scores to show with each pick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml import batching
from ml.scores import typicality

# ---- the pool as arrays -----------------------------------------------------------


@dataclass
class Pool:
    ids: np.ndarray
    unc: np.ndarray  # NaN = unknown
    comp: dict[str, np.ndarray]  # NaN = unknown
    emb: np.ndarray | None  # unit rows (zeros where missing)
    has_emb: np.ndarray
    reference: np.ndarray | None  # unit rows of labelled items
    jitter: np.ndarray  # seeded per-item uniform [0, 1)


def hash_uniform(ids: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of (seed, id) mapped to [0, 1): stable per item, any order."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _informativeness(pool: Pool, params: dict[str, Any], score: str) -> np.ndarray:
    """The score a strategy ranks by, boosted for rare classes (NaN = unknown)."""
    if (
        score != "uncertainty"
        and score in pool.comp
        and np.isnan(pool.comp[score]).all()
    ):
        score = "uncertainty"  # e.g. no previous version yet for the committee
    if score == "uncertainty":
        base = pool.unc
    elif score == "mean":
        parts = [pool.unc, pool.comp["disagreement"], pool.comp["instability"]]
        base = np.nanmean(np.vstack(parts), axis=0) if len(pool.ids) else pool.unc
    else:
        base = pool.comp[score]
    beta = float(params.get("rare_boost", 0.0))
    if beta:
        rare = np.nan_to_num(pool.comp["rare"], nan=0.0)
        base = base * (1.0 + beta * rare) / (1.0 + beta)
    return np.clip(base, 0.0, 1.0)


def _by_value(values: np.ndarray, pool: Pool) -> list[int]:
    """Known values high to low (ties: seeded jitter); unknown ones excluded."""
    known = np.flatnonzero(~np.isnan(values))
    order = np.lexsort((pool.jitter[known], -values[known]))
    return known[order].tolist()


Ranker = Callable[["Pool", dict[str, Any], int], tuple[list[int], dict[str, Any]]]


def rank_topk(score: str) -> Ranker:
    def rank(pool: Pool, params: dict[str, Any], seed: int):
        info = _informativeness(pool, params, score)
        order = _by_value(info, pool)
        if params.get("dedup", 0) and pool.emb is not None:
            with_emb = [i for i in order if pool.has_emb[i]]
            order = batching.dedup_order(pool.emb, with_emb, params["dedup"]) + [
                i for i in order if not pool.has_emb[i]
            ]
        return order, {"informativeness": info}

    return rank


def rank_random(pool: Pool, params: dict[str, Any], seed: int):
    return _by_value(pool.jitter, pool), {}


def rank_diversity(pool: Pool, params: dict[str, Any], seed: int):
    idx = np.flatnonzero(pool.has_emb)
    if not len(idx):
        return [], {}
    emb = pool.emb[idx]
    start = int(np.argmax(pool.jitter[idx]))
    k = params["batch_size"]
    picks = batching.kcenter_greedy(emb, k, reference=pool.reference, start=start)
    dist = batching.min_distances(emb, _stack(pool.reference, emb[picks]))
    taken = set(picks)
    rest = [i for i in np.argsort(-dist, kind="stable").tolist() if i not in taken]
    d_all = np.full(len(pool.ids), np.nan)
    d_all[idx] = batching.min_distances(emb, pool.reference) / batching.MAX_DISTANCE
    return [int(idx[i]) for i in picks + rest], {"distance": d_all}


def _stack(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None or not len(a) else np.vstack([a, b])


def _with_ood(pool: Pool, info: np.ndarray, weight: float):
    """(informativeness blended with the OOD score by `weight`, the OOD part of
    each item's, NaN where it has none); unchanged with weight 0."""
    ood = pool.comp.get("ood")
    if not weight or ood is None:
        return info, None
    known = ~np.isnan(ood)
    part = np.where(known, weight * np.clip(ood, 0.0, 1.0), 0.0)
    blended = (1.0 - weight) * info + part
    return blended, np.where(known & ~np.isnan(info), part, np.nan)


def rank_hybrid(pool: Pool, params: dict[str, Any], seed: int):
    info = _informativeness(pool, params, params.get("score", "uncertainty"))
    info, ood_part = _with_ood(pool, info, float(params.get("ood_weight", 0.0)))
    extra = {"informativeness": info}
    if ood_part is not None:
        extra["ood_part"] = ood_part
    order = _by_value(info, pool)
    k = params["batch_size"]
    # The shortlist skips near-duplicates, so that one redundant scene cannot
    # fill it (and the batch drawn from it).
    short = batching.distinct_prefix(
        pool.emb,
        [i for i in order if pool.has_emb[i]],
        params["dedup"],
        max(k, k * params["shortlist"]),
    )
    if not short:
        return order, extra
    emb = pool.emb[short]
    gain = info[short]
    rel = gain / gain.max() if gain.max() > 0 else gain
    # Part of the batch keeps covering the pool: k-center over every image,
    # away from the labelled ones and from the informative picks. Without it
    # the batch is all hard images and the labelled set stops looking like
    # the data the model is judged on.
    k_cov = round(params["coverage"] * k)
    picks = batching.kcenter_greedy(
        emb, k - k_cov, reference=pool.reference, gain=rel, alpha=params["alpha"]
    )
    chosen = [short[i] for i in picks]
    if k_cov and params["coverage_by"] == "typicality":
        chosen += _typical_coverage(pool, chosen, k_cov, seed)
    elif k_cov:  # random: picks in proportion to the pool's own density
        taken = set(chosen)
        rest = [
            int(i) for i in np.argsort(pool.jitter, kind="stable") if i not in taken
        ]
        # Different draws from the control picks (which take the lowest jitter).
        chosen += rest[len(rest) // 2 :][:k_cov]
    taken = set(chosen)
    return chosen + [i for i in order if i not in taken], extra


def _typical_coverage(pool: Pool, chosen: list[int], k: int, seed: int) -> list[int]:
    """``k`` more rows that cover the pool the way TypiClust does: k-means into
    (labelled + chosen + k) clusters, then the most typical row of each of the
    largest clusters that hold no labelled or chosen row yet. Dense regions
    the labelled set misses come first; lone outliers do not (farthest-first
    k-center would take those). Fitted on at most 5,000 sampled rows."""
    taken = set(chosen)
    idx = np.array(
        [i for i in np.flatnonzero(pool.has_emb) if i not in taken], dtype=np.int64
    )
    if not len(idx):
        return []
    n_ref = 0 if pool.reference is None else len(pool.reference)
    clusters = min(len(idx), n_ref + len(chosen) + k)
    sample = idx if len(idx) <= 5000 else idx[np.argsort(pool.jitter[idx])[:5000]]
    _, centres = batching.kmeans(pool.emb[sample], clusters, seed)
    labels = np.argmax(pool.emb[idx] @ centres.T - 0.5 * (centres**2).sum(1), axis=1)
    covered = np.zeros(len(centres), dtype=bool)
    known = _stack(pool.reference, pool.emb[chosen]) if chosen else pool.reference
    if known is not None and len(known):
        near = np.argmax(known @ centres.T - 0.5 * (centres**2).sum(1), axis=1)
        covered[np.unique(near)] = True
    typ = _typicality_against(pool.emb[idx], pool.emb[sample], 20)
    picks = [
        p for p in batching.typical_picks(labels, typ, covered)
        if not covered[labels[p]]
    ]  # fmt: skip
    return [int(idx[p]) for p in picks[:k]]


def rank_typicality(pool: Pool, params: dict[str, Any], seed: int):
    idx = np.flatnonzero(pool.has_emb)
    if not len(idx):
        return [], {}
    emb = pool.emb[idx]
    # Density from at most 5,000 sampled neighbours: exact TypiClust is O(n^2).
    sample = idx if len(idx) <= 5000 else idx[np.argsort(pool.jitter[idx])[:5000]]
    typ = _typicality_against(emb, pool.emb[sample], params["neighbours"])
    k = min(params["batch_size"], len(idx))
    labels, centres = batching.kmeans(emb, k, seed)
    covered = None
    if pool.reference is not None and len(pool.reference):
        ref_labels = np.argmax(pool.reference @ centres.T, axis=1)
        covered = np.zeros(len(centres), dtype=bool)
        covered[np.unique(ref_labels)] = True
    picks = batching.typical_picks(labels, typ, covered)
    taken = set(picks)
    rest = [i for i in np.argsort(-typ, kind="stable").tolist() if i not in taken]
    t_all = np.full(len(pool.ids), np.nan)
    t_all[idx] = typ
    return [int(idx[i]) for i in picks + rest], {"typicality": t_all}


def _typicality_against(emb: np.ndarray, sample: np.ndarray, k: int) -> np.ndarray:
    if len(sample) == len(emb):
        return typicality(emb, k)
    # Not exact for rows inside the sample (they count themselves): harmless
    # for ranking at this size.
    d2 = np.clip(2.0 - 2.0 * emb @ sample.T, 0.0, 4.0)
    kk = max(1, min(k, sample.shape[0] - 1))
    nearest = np.partition(d2, kk, axis=1)[:, 1 : kk + 1]
    typ = 1.0 / np.maximum(np.sqrt(nearest).mean(axis=1), 1e-9)
    return typ / typ.max()
