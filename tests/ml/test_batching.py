"""Batch selection against brute force, and the control share exact over batches."""

import math

import numpy as np
import pytest

from ml import batching
from ml.selection import Candidate, select


def unit(m):
    m = np.asarray(m, dtype=np.float64)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def brute_kcenter(emb, k, reference):
    """Farthest-first by definition: each pick is the row whose nearest chosen
    (or reference) row is farthest; ties to the lower index."""
    chosen = []
    for _ in range(k):
        best, best_d = None, -1.0
        for i in range(len(emb)):
            if i in chosen:
                continue
            others = [emb[j] for j in chosen] + list(reference)
            d = min(np.linalg.norm(emb[i] - o) for o in others) if others else 2.0
            if d > best_d + 1e-12:
                best, best_d = i, d
        chosen.append(best)
    return chosen


@pytest.mark.parametrize("seed", range(6))
def test_kcenter_greedy_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    emb = unit(rng.normal(size=(25, 4)))
    reference = unit(rng.normal(size=(3, 4)))
    assert batching.kcenter_greedy(emb, 8, reference=reference) == brute_kcenter(
        emb, 8, reference
    )


def test_kcenter_greedy_without_reference_starts_where_told():
    emb = unit(np.eye(3))
    assert batching.kcenter_greedy(emb, 3, start=2)[0] == 2
    assert batching.kcenter_greedy(emb, 0) == []


@pytest.mark.parametrize("seed", range(4))
def test_dedup_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    base = unit(rng.normal(size=(6, 3)))
    emb = unit(np.vstack([base, base + rng.normal(0, 0.01, base.shape)]))
    order = list(rng.permutation(len(emb)))
    got = batching.dedup_order(emb, order, 0.1)
    kept = []
    for i in order:
        if all(np.linalg.norm(emb[i] - emb[j]) >= 0.1 for j in kept):
            kept.append(i)
    assert got == kept + [i for i in order if i not in kept]
    assert len(kept) == 6  # one of each near-duplicate pair


def test_control_share_is_exact_over_many_batches():
    for batch_size in (1, 7, 50, 64):
        for share in (0.0, 0.05, 0.1, 0.15, 1 / 3, 0.5):
            for batches in (1, 10, 137):
                total = sum(
                    batching.control_slots(batch_size, share, r) for r in range(batches)
                )
                assert total == math.floor(batches * batch_size * share + 1e-9)


def test_control_picks_in_selections_add_up_to_the_share():
    rng = np.random.default_rng(3)
    cands = [
        Candidate(i, float(u), tuple(rng.normal(size=4)))
        for i, u in enumerate(rng.random(400))
    ]
    controls = 0
    for r in range(20):
        sel = select("entropy", cands, {"batch_size": 15}, seed=r, batch_index=r)
        batch = sel.batch()
        assert len(batch) == 15
        controls += sum(sel.picks[i].control for i in batch)
    assert controls == math.floor(20 * 15 * 0.1)


def test_interleave_spreads_control_picks_through_the_batch():
    out = batching.interleave([1, 2, 3, 4, 5, 6, 7, 8], [100, 200])
    assert [r for r, _ in out] == [1, 2, 100, 3, 4, 5, 6, 200, 7, 8]
    assert sum(c for _, c in out) == 2
    assert batching.interleave([], [9]) == [(9, True)]


def test_kmeans_is_seeded():
    rng = np.random.default_rng(0)
    emb = unit(rng.normal(size=(60, 5)))
    a, _ = batching.kmeans(emb, 4, seed=1)
    b, _ = batching.kmeans(emb, 4, seed=1)
    assert list(a) == list(b) and len(set(a.tolist())) == 4


def test_typical_picks_take_each_cluster_largest_first():
    labels = np.array([0, 0, 0, 1, 1, 2])
    typ = np.array([0.1, 0.9, 0.5, 0.2, 0.3, 1.0])
    assert batching.typical_picks(labels, typ) == [1, 4, 5]
    covered = np.array([True, False, False])
    assert batching.typical_picks(labels, typ, covered) == [4, 5, 1]


def test_near_duplicates_are_not_picked_twice_in_one_hybrid_batch():
    rng = np.random.default_rng(5)
    scene = unit(rng.normal(size=(1, 8)))[0]
    # 30 near-copies of one scene, all very uncertain, and 30 distinct images.
    copies = [
        Candidate(i, 0.95, tuple(scene + rng.normal(0, 0.005, 8))) for i in range(30)
    ]
    distinct = [Candidate(100 + i, 0.6, tuple(rng.normal(size=8))) for i in range(30)]
    sel = select("hybrid", copies + distinct, {"batch_size": 10, "control_share": 0}, 0)
    batch = sel.batch()
    assert sum(1 for i in batch if i < 100) == 1
    top = select(
        "entropy", copies + distinct, {"batch_size": 10, "control_share": 0}, 0
    ).batch()
    assert all(i < 100 for i in top)  # plain top-k takes the copies
