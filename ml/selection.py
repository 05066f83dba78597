"""Selection strategies: turn uncertainty and embeddings into queue priorities.

A priority is a float; higher means "label sooner". All strategies are
deterministic for a given seed and independent of the order of the
candidates (they are sorted by ``item_id`` first, and per-item randomness is a
hash of ``(seed, item_id)``), so re-prioritising an unchanged pool gives the
same queue.

* ``random``: a seeded hash of the item id, in [0, 1).
* ``entropy`` / ``margin`` / ``least_confidence``: the candidate's
  ``uncertainty`` (computed by scoring with that method and the ``aggregate``
  param); candidates not scored yet get [-1, 0), i.e. after every scored one,
  in random order.
* ``diversity``: greedy k-center (farthest-first) on L2-normalised
  embeddings, starting from ``reference_embeddings`` (already labelled items)
  when given, else from a seeded random candidate. The first ``k`` picks are
  ranked in pick order; the rest by their distance to the picked set.
  Candidates without an embedding come last.
* ``hybrid``: the same greedy loop, but each pick maximises
  ``alpha * uncertainty + (1 - alpha) * distance / 2`` (distance between unit
  vectors is at most 2); a missing uncertainty counts as the neutral 0.5.

Ranked strategies report ``1 - rank / n`` in (0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml.uncertainty import AGGREGATES, METHODS

DEFAULT_K = 1000
MAX_K = 100_000


@dataclass(frozen=True)
class Candidate:
    """An unlabelled item; ``uncertainty`` in [0, 1] or None when not scored."""

    item_id: int
    uncertainty: float | None = None
    embedding: tuple[float, ...] | None = None


Scorer = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Strategy:
    """A registered strategy: its parameter defaults and its scoring function.

    ``uncertainty_method`` names the measure scoring must compute for it
    (None: uncertainty is not used); ``needs_embeddings`` tells scoring to
    store embeddings.
    """

    name: str
    description: str
    score: Scorer
    defaults: dict[str, Any] = field(default_factory=dict)
    uncertainty_method: str | None = None
    needs_embeddings: bool = False

    def method_for(self, params: dict[str, Any]) -> str | None:
        """The uncertainty method scoring must use with these (validated) params."""
        return params.get("method", self.uncertainty_method)


# ---- per-item seeded randomness ------------------------------------------------


def _hash_uniform(ids: np.ndarray, seed: int) -> np.ndarray:
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


# ---- scorers -----------------------------------------------------------------
# Each gets sorted arrays: ids (n,), uncertainty (n,) with NaN for None, and
# embeddings (n, d) float32 unit rows or None, a boolean has_emb mask, and
# returns priorities (n,).


def _score_random(ids, unc, emb, has_emb, params, seed, reference):
    return _hash_uniform(ids, seed)


def _score_uncertainty(ids, unc, emb, has_emb, params, seed, reference):
    jitter = _hash_uniform(ids, seed)
    return np.where(np.isnan(unc), jitter - 1.0, np.clip(unc, 0.0, 1.0))


def _greedy_rank(
    emb: np.ndarray,
    gain: np.ndarray | None,
    alpha: float,
    k: int,
    start: int,
    reference: np.ndarray | None,
) -> np.ndarray:
    """Pick order of farthest-first traversal, optionally weighted by ``gain``.

    Returns a rank per row (0 = first). Each step costs one (n, d) matrix
    vector product; after ``k`` picks the rest are ranked by the same score
    against the picked set, which is what the next picks would favour.
    """
    n = emb.shape[0]
    # Distance between unit vectors is sqrt(2 - 2 cos) <= 2; with no
    # reference set every candidate starts at that maximum.
    min_d = np.full(n, 2.0, dtype=np.float64)
    if reference is not None and len(reference):
        for chunk in range(0, len(reference), 512):
            sims = emb @ reference[chunk : chunk + 512].T
            min_d = np.minimum(min_d, np.sqrt(np.clip(2.0 - 2.0 * sims.max(1), 0, 4)))
    rank = np.full(n, -1, dtype=np.int64)
    picked = np.zeros(n, dtype=bool)

    def objective() -> np.ndarray:
        dist = min_d / 2.0
        return dist if gain is None else alpha * gain + (1.0 - alpha) * dist

    nxt = start if (reference is None or not len(reference)) and gain is None else -1
    for r in range(min(k, n)):
        if nxt < 0:
            obj = objective()
            obj[picked] = -np.inf
            nxt = int(np.argmax(obj))
        rank[nxt], picked[nxt] = r, True
        # einsum runs single-threaded: a multi-threaded BLAS mat-vec, called
        # a thousand times on a busy 2-core box, was up to 10x slower.
        sims = np.einsum("ij,j->i", emb, emb[nxt])
        min_d = np.minimum(min_d, np.sqrt(np.clip(2.0 - 2.0 * sims, 0.0, 4.0)))
        nxt = -1
    rest = np.flatnonzero(~picked)
    if len(rest):
        obj = objective()[rest]
        order = rest[np.argsort(-obj, kind="stable")]
        rank[order] = np.arange(min(k, n), n)
    return rank


def _ranked(ids, emb, has_emb, gain, alpha, params, seed, reference):
    n = len(ids)
    prio = _hash_uniform(ids, seed) - 1.0  # no embedding: last, in random order
    idx = np.flatnonzero(has_emb)
    if len(idx):
        jitter = _hash_uniform(ids[idx], seed)
        start = int(np.argmax(jitter))
        g = None if gain is None else gain[idx]
        rank = _greedy_rank(emb[idx], g, alpha, params["k"], start, reference)
        prio[idx] = 1.0 - rank / n
    return prio


def _score_diversity(ids, unc, emb, has_emb, params, seed, reference):
    return _ranked(ids, emb, has_emb, None, 0.0, params, seed, reference)


def _score_hybrid(ids, unc, emb, has_emb, params, seed, reference):
    gain = np.where(np.isnan(unc), 0.5, np.clip(unc, 0.0, 1.0))
    alpha = params["alpha"]
    prio = _ranked(ids, emb, has_emb, gain, alpha, params, seed, reference)
    # Without an embedding, fall back to uncertainty alone, still after ranked ones.
    no_emb = ~has_emb
    prio[no_emb] = gain[no_emb] - 1.0 - 1e-9
    return prio


_UNC_DEFAULTS = {"aggregate": "max"}
STRATEGIES: dict[str, Strategy] = {
    "random": Strategy("random", "Seeded random order.", _score_random),
    **{
        m: Strategy(
            m,
            f"Most uncertain first ({m.replace('_', ' ')}).",
            _score_uncertainty,
            dict(_UNC_DEFAULTS),
            uncertainty_method=m,
        )
        for m in METHODS
    },
    "diversity": Strategy(
        "diversity",
        "Greedy k-center on image embeddings (works before any model exists).",
        _score_diversity,
        {"k": DEFAULT_K},
        needs_embeddings=True,
    ),
    "hybrid": Strategy(
        "hybrid",
        "Uncertainty weighted with diversity by alpha.",
        _score_hybrid,
        {"alpha": 0.5, "method": "entropy", "aggregate": "max", "k": DEFAULT_K},
        uncertainty_method="entropy",
        needs_embeddings=True,
    ),
}


def validate_strategy_params(strategy: str, params: dict[str, Any] | None) -> dict:
    """Return ``params`` with defaults filled in.

    Raises ValueError naming the field and the reason: unknown strategy,
    unknown parameter, wrong type or out of range.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"strategy: unknown {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        )
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError("params: must be an object")
    spec = STRATEGIES[strategy]
    out = dict(spec.defaults)
    for key, value in params.items():
        if key not in spec.defaults:
            raise ValueError(f"params.{key}: unknown parameter for {strategy!r}")
        out[key] = value
    if "aggregate" in out and out["aggregate"] not in AGGREGATES:
        raise ValueError(f"params.aggregate: must be one of {', '.join(AGGREGATES)}")
    if "method" in out and out["method"] not in METHODS:
        raise ValueError(f"params.method: must be one of {', '.join(METHODS)}")
    if "k" in out:
        k = out["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"params.k: must be an integer from 1 to {MAX_K}")
    if "alpha" in out:
        a = out["alpha"]
        if isinstance(a, bool) or not isinstance(a, int | float) or not 0 <= a <= 1:
            raise ValueError("params.alpha: must be a number from 0 to 1")
        out["alpha"] = float(a)
    return out


def prioritise(
    strategy: str,
    candidates: Sequence[Candidate],
    params: dict[str, Any] | None,
    seed: int,
    *,
    reference_embeddings: Sequence[Sequence[float]] | None = None,
) -> dict[int, float]:
    """Priority per item id (higher = label sooner) for ``candidates``.

    ``reference_embeddings`` (already labelled items) make diversity prefer
    what is unlike the labelled set. Raises ValueError for bad params,
    duplicate item ids, or embeddings of different lengths.
    """
    params = validate_strategy_params(strategy, params)
    if not candidates:
        return {}
    cands = sorted(candidates, key=lambda c: c.item_id)
    ids = np.fromiter((c.item_id for c in cands), dtype=np.int64, count=len(cands))
    if len(ids) > 1 and np.any(ids[1:] == ids[:-1]):
        raise ValueError("candidates: duplicate item_id")
    unc = np.fromiter(
        (np.nan if c.uncertainty is None else c.uncertainty for c in cands),
        dtype=np.float64,
        count=len(cands),
    )
    spec = STRATEGIES[strategy]
    emb = has_emb = ref = None
    if spec.needs_embeddings:
        emb, has_emb = _embedding_matrix(cands)
        if reference_embeddings is not None and len(reference_embeddings):
            ref = _unit_rows(np.asarray(reference_embeddings, dtype=np.float32))
            if emb.shape[1] and ref.shape[1] != emb.shape[1]:
                raise ValueError("reference_embeddings: length differs from candidates")
    prio = spec.score(ids, unc, emb, has_emb, params, seed, ref)
    return dict(zip(ids.tolist(), prio.tolist(), strict=True))


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def _embedding_matrix(cands: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    has = np.array([c.embedding is not None and len(c.embedding) > 0 for c in cands])
    dims = {len(c.embedding) for c, h in zip(cands, has, strict=True) if h}
    if len(dims) > 1:
        raise ValueError("candidates: embeddings have different lengths")
    d = dims.pop() if dims else 0
    m = np.zeros((len(cands), d), dtype=np.float32)
    if d:
        rows = np.flatnonzero(has)
        m[rows] = np.asarray([cands[i].embedding for i in rows], dtype=np.float32)
        if not np.all(np.isfinite(m)):
            raise ValueError("candidates: embeddings must be finite")
        m = _unit_rows(m)
    return m, has
