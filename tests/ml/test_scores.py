"""Every image score against hand-computed values, and always finite in [0, 1]."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml import scores
from ml.types import Detection


def det(bbox, *class_scores, label="a"):
    return Detection(label, max(class_scores), tuple(class_scores), tuple(bbox))


BOX = (10.0, 10.0, 20.0, 20.0)


@pytest.mark.parametrize(
    "method,expected",
    [
        ("least_confidence", 0.2),
        # candidates 0.8, 0.1 and background 0.2: top two 0.8 and 0.2
        ("margin", 0.4),
        (
            "entropy",
            -sum(p / 1.1 * math.log(p / 1.1) for p in (0.8, 0.1, 0.2)) / math.log(3),
        ),
    ],
)
def test_one_box_per_measure(method, expected):
    assert scores.uncertainty([det(BOX, 0.8, 0.1)], method, "max") == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    "how,expected", [("max", 0.5), ("mean", 0.35), ("noisy_or", 0.6), ("sum", 0.6)]
)
def test_aggregates(how, expected):
    dets = [det(BOX, 0.8), det(BOX, 0.5)]  # least confidence 0.2 and 0.5
    assert scores.uncertainty(dets, "least_confidence", how) == pytest.approx(expected)


def test_an_image_without_detections_has_a_defined_score():
    assert scores.uncertainty([], "entropy", "max") == 0.5
    assert scores.uncertainty([], "margin", "mean", empty=1.0) == 1.0
    with pytest.raises(ValueError, match="empty"):
        scores.uncertainty([], empty=2.0)


def test_ties_and_bad_names():
    tie = [det(BOX, 0.5, 0.5)]
    assert scores.uncertainty(tie, "margin") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method"):
        scores.uncertainty(tie, "bald")
    with pytest.raises(ValueError, match="aggregate"):
        scores.aggregate([0.1], "median", 0.5)


def test_committee_disagreement():
    a = [det(BOX, 0.9, 0.0)]
    assert scores.disagreement([], []) == 0.0
    assert scores.disagreement(a, a) == pytest.approx(0.0)
    assert scores.disagreement(a, []) == 1.0
    assert scores.disagreement([], a) == 1.0
    # Same place, the other class: classes disagree fully.
    assert scores.disagreement(a, [det(BOX, 0.0, 0.9)]) == pytest.approx(1.0)
    # Same class, half the box overlaps (IoU 1/3): 1 - 1/3.
    shifted = [det((20.0, 10.0, 20.0, 20.0), 0.9, 0.0)]
    assert scores.disagreement(a, shifted) == pytest.approx(2 / 3)


def test_localisation_instability_under_a_flip():
    width = 100.0
    box = det(BOX, 0.9)
    mirrored = det((width - 30.0, 10.0, 20.0, 20.0), 0.9)  # where the flip puts it
    assert scores.instability([box], [mirrored], width) == pytest.approx(0.0)
    assert scores.instability([box], [], width) == 1.0
    assert scores.unflip([mirrored], width)[0].bbox == BOX


def test_rare_class_boost():
    weights = scores.class_weights(["a", "b"], {"a": 9})
    assert weights == {"a": pytest.approx(0.1), "b": 1.0}
    boxes = [det(BOX, 0.2, 0.9)]
    assert scores.rare_boost(boxes, ["a", "b"], weights) == pytest.approx(0.9)
    assert scores.rare_boost([det(BOX, 0.9, 0.0)], ["a", "b"], weights) == (
        pytest.approx(0.09)
    )
    assert scores.rare_boost([], ["a", "b"], weights) == 0.0


def test_typicality_puts_the_dense_cluster_first_and_the_outlier_last():
    rng = np.random.default_rng(0)
    dense = np.array([1.0, 0.0, 0.0]) + rng.normal(0, 0.01, (30, 3))
    loose = np.array([0.0, 1.0, 0.0]) + rng.normal(0, 0.2, (10, 3))
    outlier = np.array([[0.0, 0.0, 1.0]])
    typ = scores.typicality(np.vstack([dense, loose, outlier]), k=5)
    assert typ.max() == 1.0 and np.argmax(typ) < 30
    assert np.argmin(typ) == 40
    assert typ[:30].min() > typ[30:40].max()
    assert list(scores.typicality(np.zeros((1, 3)))) == [1.0]


finite = st.floats(min_value=-1, max_value=2, allow_nan=False, allow_subnormal=True)


@given(
    st.lists(st.lists(finite, min_size=1, max_size=4), max_size=6),
    st.sampled_from(["least_confidence", "margin", "entropy"]),
    st.sampled_from(["max", "mean", "noisy_or"]),
)
def test_every_score_is_finite_and_in_the_unit_interval(rows, method, how):
    dets = [det(BOX, *row) for row in rows]
    values = [
        scores.uncertainty(dets, method, how),
        scores.disagreement(dets, dets[::-1]),
        scores.instability(dets, dets, 100.0),
        scores.rare_boost(dets, ["a", "b", "c", "d"], {"a": 1.0, "b": 0.5}),
    ]
    for v in values:
        assert math.isfinite(v) and 0.0 <= v <= 1.0, values
