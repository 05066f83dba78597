import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ml.types import Detection
from ml.uncertainty import (
    EMPTY_IMAGE_UNCERTAINTY,
    entropy,
    image_uncertainty,
    least_confidence,
    margin,
)

MEASURES = [entropy, margin, least_confidence]


def det(*scores):
    return Detection("a", max(scores), tuple(scores), (0, 0, 1, 1))


def test_single_class_coin_flip_is_maximally_uncertain():
    assert entropy([0.5]) == pytest.approx(1.0)
    assert margin([0.5]) == pytest.approx(1.0)
    assert least_confidence([0.5]) == pytest.approx(0.5)


def test_confident_box_is_certain():
    assert entropy([1.0, 0.0]) == pytest.approx(0.0)
    assert margin([1.0, 0.0]) == pytest.approx(0.0)
    assert least_confidence([1.0, 0.0]) == 0.0


def test_two_classes_scoring_alike_are_more_uncertain_than_one_clear_winner():
    for measure in (entropy, margin):
        assert measure([0.8, 0.75, 0.0]) > measure([0.8, 0.05, 0.0])


def test_scores_need_not_sum_to_one():
    # Independent sigmoids: both 0.9 must not break the [0, 1] range.
    for measure in MEASURES:
        assert 0.0 <= measure([0.9, 0.9, 0.9]) <= 1.0


# A subnormal score next to scores whose sum exceeds 1: p > 0 but p / total
# underflows to 0.0, and log(0) used to raise "math domain error".
SUBNORMAL_CASES = [
    [5e-324, 1.0, 1.0],
    [1.0, 1.0, 5e-324],
    [5e-324, 0.9, 0.9, 0.9],
    [1e-323, 1.0, 1.0, 1.0, 1.0],
]


@given(st.lists(st.floats(-1, 2, allow_nan=False), min_size=1, max_size=20))
@example([5e-324, 1.0, 1.0])
@example([1.0, 1.0, 5e-324])
def test_every_measure_stays_in_unit_interval(scores):
    for measure in MEASURES:
        assert 0.0 <= measure(scores) <= 1.0


@pytest.mark.parametrize("scores", SUBNORMAL_CASES)
def test_subnormal_score_next_to_a_large_total_counts_as_zero(scores):
    # The subnormal's share is below the smallest float: it adds nothing, so
    # the entropy equals that of the same scores with the subnormal at 0.
    zeroed = [0.0 if 0 < s < 1e-300 else s for s in scores]
    assert entropy(scores) == entropy(zeroed)
    for measure in MEASURES:
        assert 0.0 <= measure(scores) <= 1.0


def test_empty_or_non_finite_scores_raise():
    for measure in MEASURES:
        with pytest.raises(ValueError):
            measure([])
        with pytest.raises(ValueError):
            measure([math.nan])


def test_image_without_detections_gets_the_neutral_score():
    assert image_uncertainty([]) == EMPTY_IMAGE_UNCERTAINTY == 0.5
    assert image_uncertainty([], empty=1.0) == 1.0


def test_image_aggregates():
    dets = [det(0.5), det(1.0)]  # entropy 1.0 and 0.0
    assert image_uncertainty(dets, "entropy", "max") == pytest.approx(1.0)
    assert image_uncertainty(dets, "entropy", "mean") == pytest.approx(0.5)
    three = [det(0.9), det(0.9), det(0.9)]  # least confidence 0.1 each
    assert image_uncertainty(three, "least_confidence", "sum") == pytest.approx(
        1 - 0.9**3
    )


@given(st.lists(st.floats(0, 1), max_size=30), st.sampled_from(["max", "mean", "sum"]))
def test_image_uncertainty_stays_in_unit_interval(scores, aggregate):
    value = image_uncertainty([det(s) for s in scores], "margin", aggregate)
    assert 0.0 <= value <= 1.0


def test_detection_without_score_vector_falls_back_to_confidence():
    d = Detection("a", 0.5, (), (0, 0, 1, 1))
    assert image_uncertainty([d]) == pytest.approx(1.0)


def test_raw_score_vectors_are_accepted():
    assert image_uncertainty([[0.5]], "least_confidence") == pytest.approx(0.5)


def test_unknown_method_or_aggregate_raises():
    with pytest.raises(ValueError, match="method"):
        image_uncertainty([det(0.5)], "bald")
    with pytest.raises(ValueError, match="aggregate"):
        image_uncertainty([det(0.5)], "entropy", "median")
