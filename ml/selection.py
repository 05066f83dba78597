"""Selection strategies: turn scores and embeddings into a batch and a queue order.

A strategy picks the next **batch** (``batch_size`` images, in pick order),
then orders the rest of the pool behind it. Every strategy but ``random``
gives a share of each batch (``control_share``, default 10 %) to seeded random
**control** picks, interleaved with its own, so that the strategy's picks can
be compared with random ones on the user's own data.

Priorities are ranks: ``1 - rank / n`` in (0, 1] for every candidate the
strategy can rank, ``[-1, 0)`` (seeded random order) for those it cannot
(no score, no embedding). ``random`` gives a seeded hash in [0, 1).

Registered strategies (``STRATEGIES``):

* ``random``: seeded random order (the control everything is measured against).
* ``least_confidence`` / ``margin`` / ``entropy``: top-k by the image's
  uncertainty (computed at scoring time with that measure and ``aggregate``),
  optionally boosted for rare classes (``rare_boost``) and with near-duplicate
  suppression (``dedup``).
* ``committee``: top-k by the disagreement between the best and the previous
  model version.
* ``stability``: top-k by localisation instability under a horizontal flip.
* ``diversity``: k-center greedy on the embeddings, away from labelled images.
* ``hybrid``: a shortlist of the ``shortlist`` x ``batch_size`` most
  informative images (uncertainty, boosted for rare classes), then a diverse
  batch from it (k-center against the labelled set and earlier picks, each pick
  weighing informativeness by ``alpha``), near-duplicates suppressed. With
  ``ood_weight`` w > 0 the informativeness is ``(1 - w) x`` itself ``+ w x`` the
  item's stored OOD score (ml.ood; 0 where it has none): out-of-distribution
  items rise; w = 0 (the default) leaves the strategy exactly as it was.
* ``typicality``: the cold start of TypiClust: k-means into ``batch_size``
  clusters, the most typical image of each, largest clusters first.

Every strategy but ``random`` takes ``warmup``: while fewer items than that
are labelled, its batch and order are exactly ``random``'s (same seed), and
the strategy takes over from there.

Per-item randomness is a hash of ``(seed, item_id)``, so the order does not
depend on the order of the candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml import batching
from ml.rankers import (
    Pool,
    hash_uniform,
)
from ml.strategies import (
    COLD_START_STRATEGIES,
    DEFAULT_BATCH,
    DEFAULT_CONTROL_SHARE,
    MAX_BATCH,
    MAX_WARMUP,
    PARAM_HELP,
    PARAM_KEYS,
    STRATEGIES,
    STRATEGY_NAMES,
    Ranker,
    Strategy,
    param_reference,
    param_specs,
    validate_strategy_params,
)

# The registry lives in ml.strategies; these names stay importable from here.
__all__ = [
    "COLD_START_STRATEGIES",
    "Candidate",
    "DEFAULT_BATCH",
    "DEFAULT_CONTROL_SHARE",
    "MAX_BATCH",
    "MAX_WARMUP",
    "PARAM_HELP",
    "PARAM_KEYS",
    "Pick",
    "Ranker",
    "SCORE_COMPONENTS",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Selection",
    "Strategy",
    "batching_unit",
    "param_reference",
    "param_specs",
    "prioritise",
    "select",
    "validate_strategy_params",
]

SCORE_COMPONENTS = ("uncertainty", "disagreement", "instability", "rare", "ood")
# Read into the pool but not repeated in each pick's components: the queue
# reason carries the OOD score on its own (models_mgmt scoring).
_NOT_IN_PICK = frozenset({"ood"})


@dataclass(frozen=True)
class Candidate:
    """An unlabelled item. ``uncertainty`` in [0, 1] or None when not scored;
    ``components`` holds further scores in [0, 1] (``disagreement``,
    ``instability``, ``rare``) where scoring computed them."""

    item_id: int
    uncertainty: float | None = None
    embedding: tuple[float, ...] | None = None
    components: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    """Why an item has its priority: its rank, whether it is in the batch and
    whether it is a random control pick, and the scores behind it."""

    priority: float
    rank: int | None
    in_batch: bool
    control: bool
    components: dict[str, float]


@dataclass(frozen=True)
class Selection:
    strategy: str
    params: dict[str, Any]
    picks: dict[int, Pick]
    warmup: bool = False

    @property
    def priorities(self) -> dict[int, float]:
        return {i: p.priority for i, p in self.picks.items()}

    def batch(self) -> list[int]:
        """The batch in pick order."""
        rows = [(p.rank, i) for i, p in self.picks.items() if p.in_batch]
        return [i for _, i in sorted(rows)]


def _pool(cands: Sequence[Candidate], spec: Strategy, seed: int, reference) -> Pool:
    ids = np.fromiter((c.item_id for c in cands), dtype=np.int64, count=len(cands))
    if len(ids) > 1 and np.any(ids[1:] == ids[:-1]):
        raise ValueError("candidates: duplicate item_id")
    unc = np.fromiter(
        (np.nan if c.uncertainty is None else c.uncertainty for c in cands),
        dtype=np.float64,
        count=len(cands),
    )
    comp = {
        name: np.fromiter(
            (float(c.components.get(name, np.nan)) for c in cands),
            dtype=np.float64,
            count=len(cands),
        )
        for name in SCORE_COMPONENTS
        if name != "uncertainty"
    }
    for arr in (unc, *comp.values()):
        bad = ~np.isnan(arr) & ~np.isfinite(arr)
        arr[bad] = np.nan
    emb = has_emb = ref = None
    if spec.needs_embeddings:
        emb, has_emb = _embedding_matrix(cands)
        if reference is not None and len(reference):
            ref = batching_unit(np.asarray(reference, dtype=np.float64))
            if emb.shape[1] and ref.shape[1] != emb.shape[1]:
                raise ValueError("reference_embeddings: length differs from candidates")
    else:
        has_emb = np.zeros(len(cands), dtype=bool)
    return Pool(ids, unc, comp, emb, has_emb, ref, hash_uniform(ids, seed))


def batching_unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def select(
    strategy: str,
    candidates: Sequence[Candidate],
    params: dict[str, Any] | None,
    seed: int,
    *,
    reference_embeddings: Sequence[Sequence[float]] | None = None,
    batch_index: int = 0,
    labelled: int | None = None,
) -> Selection:
    """The batch and the queue order of ``candidates`` under ``strategy``.

    ``reference_embeddings`` (labelled items) steer diversity away from what
    is labelled; ``batch_index`` (how many batches were selected before)
    keeps the random control share exact across batches. While ``labelled``
    (the ground-truth count) is below the ``warmup`` parameter, the order is
    the seeded random one, exactly as ``random`` with the same seed picks
    (``Selection.warmup``): a model trained on a handful of images is a poor
    judge of what it does not know. Raises ValueError for bad params,
    duplicate item ids, or embeddings of different lengths.
    """
    params = validate_strategy_params(strategy, params)
    spec = STRATEGIES[strategy]
    if not candidates:
        return Selection(strategy, params, {})
    cands = sorted(candidates, key=lambda c: c.item_id)
    warmup = labelled is not None and labelled < params.get("warmup", 0)
    pool = _pool(cands, spec, seed, reference_embeddings)
    n = len(cands)
    if strategy == "random" or warmup:
        prio = pool.jitter
        order = np.argsort(-prio, kind="stable")
        batch = set(order[: params["batch_size"]].tolist())
        picks = {
            int(pool.ids[i]): Pick(
                float(prio[i]),
                r,
                i in batch,
                False,
                _components(pool, {}, i) if warmup else {},
            )
            for r, i in enumerate(order.tolist())
        }
        return Selection(strategy, params, picks, warmup)
    ranked, extra = spec.rank(pool, params, seed)
    k = min(params["batch_size"], n)
    n_control = batching.control_slots(k, params.get("control_share", 0.0), batch_index)
    ranked_set = set(ranked)
    # Items the strategy cannot rank (not scored yet) stay behind every ranked
    # one: the batch may be smaller than batch_size until scoring catches up.
    head = ranked[: k - n_control]
    head_set = set(head)
    others = [i for i in range(n) if i not in head_set]
    # Control picks: seeded random among everything outside the strategy's
    # picks (including items it cannot rank).
    control = sorted(others, key=lambda i: pool.jitter[i])[:n_control]
    batch = batching.interleave(head, control)
    control_set = set(control)
    rest = [i for i in ranked if i not in head_set and i not in control_set]
    order = [i for i, _ in batch] + rest
    unranked = [
        i
        for i in np.argsort(pool.jitter, kind="stable").tolist()
        if i not in ranked_set and i not in control_set and i not in head_set
    ]
    picks: dict[int, Pick] = {}
    for rank, i in enumerate(order):
        picks[int(pool.ids[i])] = Pick(
            1.0 - rank / n,
            rank,
            rank < len(batch),
            rank < len(batch) and i in control_set,
            _components(pool, extra, i),
        )
    for i in unranked:
        picks[int(pool.ids[i])] = Pick(
            float(pool.jitter[i]) - 1.0, None, False, False, _components(pool, extra, i)
        )
    return Selection(strategy, params, picks)


def _components(pool: Pool, extra: dict[str, np.ndarray], i: int) -> dict[str, float]:
    out = {}
    if not np.isnan(pool.unc[i]):
        out["uncertainty"] = round(float(pool.unc[i]), 6)
    for name, arr in (*pool.comp.items(), *extra.items()):
        if name in _NOT_IN_PICK and name in pool.comp:
            continue
        if not np.isnan(arr[i]):
            out[name] = round(float(arr[i]), 6)
    return out


def prioritise(
    strategy: str,
    candidates: Sequence[Candidate],
    params: dict[str, Any] | None,
    seed: int,
    *,
    reference_embeddings: Sequence[Sequence[float]] | None = None,
    batch_index: int = 0,
    labelled: int | None = None,
) -> dict[int, float]:
    """Priority per item id (higher = label sooner); see :func:`select`."""
    return select(
        strategy,
        candidates,
        params,
        seed,
        reference_embeddings=reference_embeddings,
        batch_index=batch_index,
        labelled=labelled,
    ).priorities


def _embedding_matrix(cands: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    has = np.array([c.embedding is not None and len(c.embedding) > 0 for c in cands])
    dims = {len(c.embedding) for c, h in zip(cands, has, strict=True) if h}
    if len(dims) > 1:
        raise ValueError("candidates: embeddings have different lengths")
    d = dims.pop() if dims else 0
    m = np.zeros((len(cands), d), dtype=np.float64)
    if d:
        rows = np.flatnonzero(has)
        m[rows] = np.asarray([cands[i].embedding for i in rows], dtype=np.float64)
        if not np.all(np.isfinite(m)):
            raise ValueError("candidates: embeddings must be finite")
        m = batching_unit(m)
    return m, has
