"""Label-error candidates (ml.label_errors) on hand-computed cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.label_errors import (
    KINDS,
    MISSING_LABEL,
    SHIFTED_BOX,
    SPURIOUS_LABEL,
    WRONG_CLASS,
    LabelErrorParams,
    folds,
    rank_label_errors,
)
from ml.types import BoxShape, Detection

NAMES = ("square", "disc")


def det(label, conf, bbox, scores=None) -> Detection:
    if scores is None:
        scores = tuple(conf if n == label else 0.0 for n in NAMES)
    return Detection(label, conf, scores, tuple(float(v) for v in bbox))


def box(label, bbox) -> BoxShape:
    return BoxShape(label, tuple(float(v) for v in bbox))


def rank(*items, **kw):
    return rank_label_errors(
        [(n, shapes, dets) for n, (shapes, dets) in enumerate(items)],
        class_names=NAMES,
        **kw,
    )


def summary(ranking):
    return [(c.image_id, c.kind, c.gt_index, c.pred_index) for c in ranking]


def test_labels_the_model_agrees_with_raise_nothing():
    assert (
        rank(([box("square", (0, 0, 10, 10))], [det("square", 0.9, (0, 0, 10, 10))]))
        == []
    )
    assert rank(([], [])) == [] and rank_label_errors([]) == []


def test_wrong_class_scores_confidence_times_disbelief_times_iou():
    shapes = [box("square", (0, 0, 10, 10))]
    dets = [det("disc", 0.9, (0, 0, 10, 10), scores=(0.1, 0.9))]
    [c] = rank((shapes, dets))
    assert (c.kind, c.gt_index, c.pred_index) == (WRONG_CLASS, 0, 0)
    assert c.score == pytest.approx(0.9 * (1 - 0.1) * 1.0)
    assert (c.label, c.predicted, c.iou, c.confidence) == ("square", "disc", 1.0, 0.9)
    assert c.gt_bbox == c.pred_bbox == (0.0, 0.0, 10.0, 10.0)
    assert "labelled square" in c.reason and "disc" in c.reason


def test_a_label_whose_class_the_model_also_believes_is_not_a_wrong_class():
    # Two overlapping predictions, disc 0.9 and square 0.6: the label is fine.
    shapes = [box("square", (0, 0, 10, 10))]
    dets = [det("disc", 0.9, (0, 0, 10, 10)), det("square", 0.6, (0, 0, 10, 10))]
    assert rank((shapes, dets)) == []


def test_missing_label_scores_confidence_times_one_minus_overlap():
    [c] = rank(([], [det("square", 0.8, (0, 0, 10, 10))]))
    assert (c.kind, c.gt_index, c.pred_index, c.score) == (MISSING_LABEL, None, 0, 0.8)
    # A disc label overlapping by IoU 40/160 = 0.25 does not explain it.
    shapes = [box("disc", (6, 0, 10, 10))]
    found = rank((shapes, [det("square", 0.8, (0, 0, 10, 10))]))
    assert summary(found) == [(0, MISSING_LABEL, None, 0), (0, SPURIOUS_LABEL, 0, None)]
    assert found[0].score == pytest.approx(0.8 * 0.75) and found[0].iou == 0.25
    # No label was matched anywhere: "elsewhere" falls back to `confident`.
    assert found[1].score == pytest.approx(0.5)


def test_shifted_box_off_its_object_and_loosely_matched():
    pred = [det("square", 0.9, (0, 0, 10, 10))]
    [c] = rank(([box("square", (5, 0, 10, 10))], pred))  # IoU 50/150
    assert (c.kind, c.gt_index, c.pred_index) == (SHIFTED_BOX, 0, 0)
    assert c.score == pytest.approx(0.9 * (1 - 1 / 3)) and c.iou == pytest.approx(1 / 3)
    [c] = rank(([box("square", (2, 0, 10, 10))], pred))  # IoU 80/120, matched
    assert c.kind == SHIFTED_BOX and c.score == pytest.approx(0.9 * (1 - 2 / 3))
    assert "loosely" in c.reason
    # Beyond low_iou (IoU 10/190) it is a different object: two candidates.
    found = rank(([box("square", (9, 0, 10, 10))], pred))
    assert {c.kind for c in found} == {MISSING_LABEL, SPURIOUS_LABEL}


def test_spurious_label_is_scored_by_the_confidence_elsewhere():
    shapes = [box("square", (0, 0, 10, 10)), box("disc", (50, 50, 10, 10))]
    [c] = rank((shapes, [det("square", 0.8, (0, 0, 10, 10))]))
    assert (c.kind, c.gt_index, c.pred_index) == (SPURIOUS_LABEL, 1, None)
    assert c.score == pytest.approx(0.8) and c.confidence == pytest.approx(0.8)


def test_spurious_label_in_an_image_without_predictions_uses_the_median_support():
    a = ([box("square", (0, 0, 10, 10))], [det("square", 0.6, (0, 0, 10, 10))])
    b = ([box("square", (0, 0, 10, 10))], [det("square", 0.9, (0, 0, 10, 10))])
    c = ([box("disc", (0, 0, 10, 10))], [])
    [found] = rank(a, b, c)
    assert (found.image_id, found.kind) == (2, SPURIOUS_LABEL)
    assert found.score == pytest.approx(0.75) and "on labelled objects" in found.reason


def test_unconfident_predictions_support_labels_but_flag_nothing():
    shapes = [box("square", (0, 0, 10, 10))]
    [c] = rank((shapes, [det("square", 0.3, (0, 0, 10, 10))]))
    # Weak support 0.3: (1 - 0.3) * the fallback 0.5.
    assert c.kind == SPURIOUS_LABEL and c.score == pytest.approx(0.35)
    assert rank(([], [det("disc", 0.49, (0, 0, 10, 10))])) == []


def test_without_class_names_only_each_box_label_and_confidence_count():
    shapes = [box("square", (0, 0, 10, 10))]
    dets = [det("disc", 0.9, (0, 0, 10, 10), scores=(0.8, 0.9))]
    # With the vector the model also believes square (0.8): a weak doubt.
    [c] = rank((shapes, dets))
    assert c.kind == WRONG_CLASS and c.score == pytest.approx(0.9 * 0.2)
    [c] = rank_label_errors([(0, shapes, dets)])
    assert c.kind == WRONG_CLASS and c.score == pytest.approx(0.9)


def test_ranking_is_by_score_then_image_kind_and_index():
    item = ([box("square", (0, 0, 10, 10))], [det("disc", 0.9, (0, 0, 10, 10))])
    weak = ([], [det("square", 0.6, (0, 0, 10, 10))])
    found = rank(weak, item, item)
    assert summary(found) == [
        (1, WRONG_CLASS, 0, 0),
        (2, WRONG_CLASS, 0, 0),
        (0, MISSING_LABEL, None, 0),
    ]


def test_params_are_checked():
    with pytest.raises(ValueError):
        LabelErrorParams(confident=1.5)
    with pytest.raises(ValueError):
        LabelErrorParams(low_iou=0.6)  # above match_iou
    with pytest.raises(ValueError):
        LabelErrorParams(match_iou=0.0, low_iou=0.0)


coords = st.integers(0, 40)
boxes = st.tuples(coords, coords, st.integers(1, 20), st.integers(1, 20))
labels = st.sampled_from(NAMES)


@given(
    st.lists(st.tuples(labels, boxes), max_size=5),
    st.lists(st.tuples(labels, st.floats(0, 1), boxes), max_size=6),
)
def test_every_label_and_prediction_is_blamed_at_most_once(gt, preds):
    shapes = [box(label, b) for label, b in gt]
    dets = [det(label, conf, b) for label, conf, b in preds]
    found = rank((shapes, dets))
    assert all(0.0 <= c.score <= 1.0 and c.kind in KINDS for c in found)
    used_gt = [c.gt_index for c in found if c.gt_index is not None]
    used_pred = [c.pred_index for c in found if c.pred_index is not None]
    assert len(used_gt) == len(set(used_gt)) and len(used_pred) == len(set(used_pred))
    assert all(dets[i].confidence >= 0.5 for i in used_pred)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_folds_are_disjoint_balanced_seeded_and_order_free():
    ids = list(range(10))
    split = folds(ids, 3, seed=1)
    assert sorted(i for f in split for i in f) == ids
    assert sorted(len(f) for f in split) == [3, 3, 4]
    assert folds(list(reversed(ids)), 3, seed=1) == split
    assert folds(ids, 3, seed=2) != split
    with pytest.raises(ValueError):
        folds(ids, 1)
    with pytest.raises(ValueError):
        folds([1, 1], 2)
