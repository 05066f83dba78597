"""OOD scores and drift (ml.ood), the PCA map (ml.projection): constructed data."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from ml.ood import drift, fit_reference, ood_scores
from ml.projection import project_2d


def on_circle(*degrees: float) -> np.ndarray:
    return np.array(
        [[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in degrees]
    )


def cos_d(degrees: float) -> float:
    return 1 - math.cos(math.radians(degrees))


def test_leave_one_out_distances_threshold_and_scaling_by_hand():
    # Training directions at 0, 10, 30 and 60 degrees; k = 2.
    ref = fit_reference(on_circle(0, 10, 30, 60), k=2, quantile=0.5)
    loo = [
        (cos_d(10) + cos_d(30)) / 2,  # 0: nearest 10, 30
        (cos_d(10) + cos_d(20)) / 2,  # 10: nearest 0, 30
        (cos_d(20) + cos_d(30)) / 2,  # 30: nearest 10, then 0 and 60 tie at 30
        (cos_d(30) + cos_d(50)) / 2,  # 60: nearest 30, 10
    ]
    assert np.allclose(ref.loo, loo, atol=1e-6)
    median = float(np.median(loo))
    assert ref.threshold == pytest.approx(median, abs=1e-6)
    scores = ood_scores(ref, on_circle(5, 90, 180))
    d5 = (cos_d(5) + cos_d(5)) / 2
    d90 = (cos_d(30) + cos_d(60)) / 2
    assert np.allclose(scores.distance[:2], [d5, d90], atol=1e-6)
    # 5 degrees is closer than every training item is to the others.
    assert scores.percentile.tolist() == [0.0, 1.0, 1.0]
    assert scores.flagged.tolist() == [False, True, True]
    assert scores.ratio[1] == pytest.approx(d90 / median, rel=1e-5)


def test_items_like_the_training_set_are_rarely_flagged_and_others_always():
    rng = np.random.default_rng(0)
    centre = rng.normal(size=32)

    def cloud(n, shift):
        return centre + shift + rng.normal(scale=0.6, size=(n, 32))

    ref = fit_reference(cloud(400, 0.0), k=5)
    same = ood_scores(ref, cloud(400, 0.0))
    other = ood_scores(ref, cloud(100, rng.normal(scale=2.0, size=32)))
    assert 0.01 <= same.flagged.mean() <= 0.10  # about 5 % by construction
    assert other.flagged.mean() == 1.0
    assert (other.percentile == 1.0).all() and (other.ratio > 1).all()


def test_reference_checks_its_input():
    with pytest.raises(ValueError):
        fit_reference(np.ones((1, 3)))
    with pytest.raises(ValueError):
        fit_reference(np.eye(3), quantile=1.0)
    with pytest.raises(ValueError):
        fit_reference(np.eye(3), k=0)
    ref = fit_reference(np.eye(3), k=10)  # capped at n - 1
    assert ref.k == 2
    with pytest.raises(ValueError):
        ood_scores(ref, np.ones((2, 4)))
    assert ood_scores(ref, np.zeros((0, 3))).distance.shape == (0,)


def test_identical_training_items_give_a_zero_threshold():
    ref = fit_reference(np.ones((3, 2)), k=1)
    scores = ood_scores(ref, np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert ref.threshold == 0.0
    assert scores.flagged.tolist() == [False, True]
    assert scores.ratio[0] == 0.0 and math.isinf(scores.ratio[1])


def test_drift_shares_per_day_in_utc():
    day = datetime(2026, 3, 1, tzinfo=UTC)
    stamps = [
        day + timedelta(hours=1),
        day + timedelta(hours=23),
        datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),  # 2 March
        day + timedelta(days=3, hours=5),
    ]
    buckets = drift([True, False, True, True], stamps)
    assert [(b.start, b.count, b.flagged) for b in buckets] == [
        (day, 2, 1),
        (day + timedelta(days=1), 1, 1),
        (day + timedelta(days=3), 1, 1),
    ]
    assert [b.share for b in buckets] == [0.5, 1.0, 1.0]
    weekly = drift(
        [True, False], [datetime(2026, 3, 2), datetime(2026, 3, 3)], timedelta(weeks=1)
    )
    assert (
        len(weekly) == 1 and weekly[0].start.tzinfo is None and weekly[0].share == 0.5
    )
    assert drift([], []) == []


def test_drift_checks_its_input():
    with pytest.raises(ValueError):
        drift([True], [])
    with pytest.raises(ValueError):
        drift([True], [datetime(2026, 1, 1)], timedelta(0))
    with pytest.raises(ValueError):
        drift([True, True], [datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC)])


def arc(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors spread along one arc (angle a) with a little noise off it."""
    rng = np.random.default_rng(seed)
    a = np.linspace(-0.6, 0.6, n)
    off = rng.normal(scale=0.02, size=n)
    v = np.stack([np.cos(a), np.sin(a), off, np.zeros(n)], axis=1)
    return v / np.linalg.norm(v, axis=1, keepdims=True), a


def test_pca_map_finds_the_main_direction_deterministically():
    x, a = arc(200, 0)
    m = project_2d(x)
    assert m.coords.shape == (200, 2)
    assert abs(m.components[0] @ np.array([0, 1.0, 0, 0])) > 0.99
    assert m.components[0][np.argmax(np.abs(m.components[0]))] > 0  # sign fixed
    assert np.corrcoef(m.coords[:, 0], np.sin(a))[0, 1] > 0.99
    assert m.explained[0] > 0.9 and m.explained.sum() <= 1.0 + 1e-9
    assert np.allclose(m.transform(x), m.coords)
    again = project_2d(x[::-1])
    assert np.allclose(again.coords[::-1], m.coords)


def test_pca_map_fits_on_a_seeded_sample_when_large_and_handles_tiny_input():
    x, _ = arc(300, 1)
    one = project_2d(x, seed=4, max_fit=50)
    assert np.array_equal(one.coords, project_2d(x, seed=4, max_fit=50).coords)
    assert abs(one.components[0] @ np.array([0, 1.0, 0, 0])) > 0.99
    single = project_2d(np.ones((1, 3)))
    assert single.coords.tolist() == [[0.0, 0.0]] and single.explained.tolist() == [
        0,
        0,
    ]
    assert project_2d(np.zeros((0, 3))).coords.shape == (0, 2)
    with pytest.raises(ValueError):
        project_2d(np.ones(3))
