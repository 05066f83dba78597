"""Exact blocked kNN (ml.similarity) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from ml.similarity import EmbeddingIndex, knn, unit_rows


def brute(queries, base, k, skip_self=False):
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    b = base / np.linalg.norm(base, axis=1, keepdims=True)
    d = np.clip(1.0 - q @ b.T, 0.0, 2.0)
    if skip_self:
        np.fill_diagonal(d, np.inf)
    out_i, out_d = [], []
    for row in d:
        order = sorted(range(len(row)), key=lambda j: (row[j], j))[:k]
        out_i.append(order)
        out_d.append(row[order])
    return np.array(out_i), np.array(out_d)


@pytest.mark.parametrize("blocks", [(1024, 8192), (7, 5), (1, 1)])
def test_blocked_knn_equals_brute_force(blocks):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(60, 8))
    queries = rng.normal(size=(13, 8))
    idx, dist = knn(queries, base, 4, query_block=blocks[0], base_block=blocks[1])
    b_idx, b_dist = brute(queries, base, 4)
    assert np.array_equal(idx, b_idx)
    assert np.allclose(dist, b_dist, atol=1e-6)


@pytest.mark.parametrize("blocks", [(1024, 8192), (4, 3)])
def test_leave_one_out_knn_skips_each_row_itself(blocks):
    rng = np.random.default_rng(1)
    base = rng.normal(size=(25, 5))
    idx, dist = knn(
        base, base, 3, skip_self=True, query_block=blocks[0], base_block=blocks[1]
    )
    b_idx, b_dist = brute(base, base, 3, skip_self=True)
    assert np.array_equal(idx, b_idx) and np.allclose(dist, b_dist, atol=1e-6)
    assert not (idx == np.arange(25)[:, None]).any()


def test_ties_go_to_the_lower_row_even_across_blocks():
    base = np.array([[1.0, 0.0]] * 6 + [[0.0, 1.0]])
    idx, dist = knn(np.array([[1.0, 0.0]]), base, 3, base_block=2)
    assert idx.tolist() == [[0, 1, 2]] and np.allclose(dist, 0.0)
    # A duplicate of a row is its nearest neighbour at distance 0 (leave-one-out).
    idx, dist = knn(base, base, 1, skip_self=True)
    assert idx[:6, 0].tolist() == [1, 0, 0, 0, 0, 0] and dist[6, 0] == pytest.approx(
        1.0
    )


def test_k_is_capped_and_inputs_are_checked():
    base = np.eye(3)
    idx, dist = knn(base, base, 10, skip_self=True)
    assert idx.shape == (3, 2) and np.allclose(dist, 1.0)
    assert knn(np.zeros((0, 3)), base, 2)[0].shape == (0, 2)
    with pytest.raises(ValueError):
        knn(base, base, 0)
    with pytest.raises(ValueError):
        knn(np.ones((1, 2)), base, 1)
    with pytest.raises(ValueError):
        knn(base[:2], base, 1, skip_self=True)
    with pytest.raises(ValueError):
        knn(np.array([[np.nan, 0, 0]]), base, 1)


def test_zero_vectors_are_at_distance_one_from_everything():
    assert np.allclose(unit_rows(np.zeros((2, 3))), 0.0)
    _, dist = knn(np.zeros((1, 3)), np.eye(3), 3)
    assert np.allclose(dist, 1.0)


def test_index_query_of_one_vector_matches_brute_force_and_excludes_ids():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(200, 16))
    ids = [f"item-{i}" for i in range(200)]
    index = EmbeddingIndex(ids, vectors)
    q = vectors[7]
    b_idx, b_dist = brute(q[None, :], vectors, 6)
    found = index.query(q, 6)
    assert [n.id for n in found] == [ids[i] for i in b_idx[0]]
    assert found[0].id == "item-7" and found[0].distance == pytest.approx(0.0, abs=1e-6)
    assert np.allclose([n.distance for n in found], b_dist[0], atol=1e-6)
    found = index.query(q, 5, exclude={"item-7", "nope"})
    assert [n.id for n in found] == [ids[i] for i in b_idx[0][1:]]
    assert len(index) == 200 and index.dim == 16


def test_bucket_query_by_centroid_and_by_union():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(100, 8))
    index = EmbeddingIndex(list(range(100)), vectors)
    bucket = vectors[[3, 4, 5]]
    unit = bucket / np.linalg.norm(bucket, axis=1, keepdims=True)
    centroid = unit.mean(axis=0)
    b_idx, _ = brute(centroid[None, :], vectors, 10)
    expected = [i for i in b_idx[0] if i not in (3, 4, 5)][:7]
    assert [n.id for n in index.query(bucket, 7, exclude=[3, 4, 5])] == expected
    # Union: each item's distance to its closest bucket member.
    all_d = np.clip(1.0 - unit @ unit_rows(vectors, np.float64).T, 0, 2).min(axis=0)
    order = [
        i for i in sorted(range(100), key=lambda j: (all_d[j], j)) if i not in (3, 4, 5)
    ]
    found = index.query(bucket, 7, mode="union", exclude=[3, 4, 5])
    assert [n.id for n in found] == order[:7]
    assert np.allclose([n.distance for n in found], all_d[order[:7]], atol=1e-6)
    with pytest.raises(ValueError):
        index.query(bucket, 7, mode="mean")


def test_an_item_with_several_vectors_counts_once_at_its_closest():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]])
    index = EmbeddingIndex(["a", "b", "b", "c"], vectors)
    found = index.query(np.array([0.0, 1.0]), 5)
    assert [(n.id, round(n.distance, 6)) for n in found] == [
        ("b", 0.0),
        ("a", 1.0),
        ("c", 1.0),
    ]
    assert len(index) == 3
    assert index.query(np.array([1.0, 0.0]), 5, exclude=["a", "b", "c"]) == []


def test_index_checks_its_input():
    with pytest.raises(ValueError):
        EmbeddingIndex([1, 2], np.ones((3, 2)))
    index = EmbeddingIndex([1], np.ones((1, 2)))
    with pytest.raises(ValueError):
        index.query(np.ones(3))
    with pytest.raises(ValueError):
        index.query(np.ones((0, 2)))
    with pytest.raises(ValueError):
        index.query(np.ones(2), k=0)
    assert len(EmbeddingIndex([], np.zeros((0, 4)))) == 0
