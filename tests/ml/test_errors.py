"""Error buckets and version diffs (ml.errors, ml.error_diff) on hand-computed cases."""

from __future__ import annotations

import pytest

from ml.error_diff import diff_versions
from ml.errors import (
    BACKGROUND,
    BOTH,
    CONFUSION,
    DUPLICATE,
    KINDS,
    LOCALIZATION,
    MISSED,
    TRUE_POSITIVE,
    ErrorRecord,
    match_image,
    match_images,
    summarize,
)
from ml.types import BoxShape, Detection, PolygonShape


def det(label: str, conf: float, bbox) -> Detection:
    return Detection(label, conf, (), tuple(float(v) for v in bbox))


def box(label: str, bbox) -> BoxShape:
    return BoxShape(label, tuple(float(v) for v in bbox))


def kinds(records):
    return [(r.kind, r.gt_index, r.pred_index) for r in records]


# Shapes: a at the origin, b next to it, a lower down, a far away (missed).
SHAPES = [
    box("a", (0, 0, 10, 10)),
    box("b", (20, 0, 10, 10)),
    box("a", (50, 50, 10, 10)),
    box("a", (80, 80, 10, 10)),
    box("b", (0, 50, 10, 10)),
]
DETS = [
    det("a", 0.9, (0, 0, 10, 10)),  # TP on 0
    det("a", 0.8, (1, 0, 10, 10)),  # IoU 90/110 with 0, already matched
    det("a", 0.7, (20, 0, 10, 10)),  # on b at IoU 1: confusion
    det("a", 0.6, (55, 50, 10, 10)),  # IoU 50/150 = 1/3 with a: localization
    det("b", 0.5, (200, 200, 5, 5)),  # nothing there: background
    det("a", 0.4, (5, 50, 10, 10)),  # IoU 1/3 with b only: both
]


def test_every_kind_of_record_from_one_hand_drawn_image():
    records = match_image("img", SHAPES, DETS)
    assert kinds(records) == [
        (TRUE_POSITIVE, 0, 0),
        (DUPLICATE, 0, 1),
        (CONFUSION, 1, 2),
        (LOCALIZATION, 2, 3),
        (BACKGROUND, None, 4),
        (BOTH, 4, 5),
        (MISSED, 1, 2),  # missed because of the confusion
        (MISSED, 2, 3),  # missed because of the poor box
        (MISSED, 3, None),  # nothing near it
        (MISSED, 4, 5),
    ]
    by_kind = {r.kind: r for r in records if r.kind != MISSED}
    assert by_kind[DUPLICATE].iou == pytest.approx(90 / 110)
    assert by_kind[LOCALIZATION].iou == pytest.approx(1 / 3)
    assert by_kind[CONFUSION].label == "b" and by_kind[CONFUSION].predicted == "a"
    assert by_kind[BACKGROUND].label is None and by_kind[BACKGROUND].cls == "b"
    far = [r for r in records if r.gt_index == 3][0]
    assert (far.predicted, far.iou, far.confidence, far.bbox) == (None, 0.0, None, None)
    confused = [r for r in records if r.kind == MISSED and r.gt_index == 1][0]
    assert (confused.predicted, confused.confidence) == ("a", 0.7)


def test_no_predictions_misses_every_shape_and_no_shapes_makes_background():
    assert kinds(match_image(1, SHAPES[:2], [])) == [
        (MISSED, 0, None),
        (MISSED, 1, None),
    ]
    assert kinds(match_image(1, [], DETS[:2])) == [
        (BACKGROUND, None, 0),
        (BACKGROUND, None, 1),
    ]
    assert match_image(1, [], []) == []


def test_matching_is_greedy_by_confidence_not_by_iou():
    # The confident box overlaps less, but it goes first (COCO).
    shapes = [box("a", (0, 0, 10, 10))]
    dets = [det("a", 0.5, (0, 0, 10, 10)), det("a", 0.9, (2, 0, 10, 10))]
    assert kinds(match_image(1, shapes, dets)) == [
        (TRUE_POSITIVE, 0, 1),
        (DUPLICATE, 0, 0),
    ]


def test_ties_go_to_the_lower_index():
    shapes = [box("a", (0, 0, 10, 10)), box("a", (10, 0, 10, 10))]
    # Equal confidence: prediction 0 first. It overlaps both shapes equally
    # (IoU 50/150 each would be too low, so use a 20-wide box: 100/200 each).
    dets = [det("a", 0.7, (0, 0, 20, 10)), det("a", 0.7, (0, 0, 20, 10))]
    assert kinds(match_image(1, shapes, dets)) == [
        (TRUE_POSITIVE, 0, 0),
        (TRUE_POSITIVE, 1, 1),
    ]


def test_min_confidence_drops_predictions_but_keeps_their_indices():
    shapes = [box("a", (0, 0, 10, 10))]
    dets = [det("a", 0.1, (0, 0, 10, 10)), det("a", 0.6, (0, 0, 10, 10))]
    assert kinds(match_image(1, shapes, dets, min_confidence=0.5)) == [
        (TRUE_POSITIVE, 0, 1)
    ]


def test_class_agnostic_matching_judges_boxes_only():
    records = match_image(1, SHAPES[1:2], [det("a", 0.9, (20, 0, 10, 10))])
    assert kinds(records) == [(CONFUSION, 0, 0), (MISSED, 0, 0)]
    records = match_image(
        1, SHAPES[1:2], [det("a", 0.9, (20, 0, 10, 10))], class_agnostic=True
    )
    assert kinds(records) == [(TRUE_POSITIVE, 0, 0)]
    assert records[0].label == "b" and records[0].predicted == "a"


def test_polygons_are_judged_by_their_bounding_box():
    triangle = PolygonShape("a", ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0)))
    records = match_image(1, [triangle], [det("a", 0.9, (0, 0, 10, 10))])
    assert kinds(records) == [(TRUE_POSITIVE, 0, 0)] and records[0].iou == 1.0


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="iou"):
        match_image(1, [], [], iou=0.0)
    with pytest.raises(ValueError, match="background_iou"):
        match_image(1, [], [], iou=0.5, background_iou=0.6)
    with pytest.raises(ValueError, match="min_confidence"):
        match_image(1, [], [], min_confidence=1.5)


def test_summary_counts_kinds_classes_and_slices_with_their_images():
    items = [
        ("x", SHAPES, DETS),
        ("y", SHAPES[:1], [det("a", 0.9, (0, 0, 10, 10))]),
        ("z", SHAPES[3:4], []),
    ]
    records = match_images(items)
    summary = summarize(records, {"x": "train", "y": ["test", "night"], "z": "test"})
    assert list(summary.overall) == list(KINDS)
    assert summary.overall[TRUE_POSITIVE].count == 2
    assert summary.overall[TRUE_POSITIVE].image_ids == ("x", "y")
    assert summary.overall[MISSED].count == 5
    assert summary.overall[MISSED].image_ids == ("x", "z")
    assert summary.per_class["a"][MISSED].count == 3  # shapes 2, 3 of x and z
    assert summary.per_class["b"][BACKGROUND].image_ids == ("x",)
    assert summary.per_slice["test"][MISSED].image_ids == ("z",)
    assert summary.per_slice["night"] == {
        TRUE_POSITIVE: summary.per_slice["night"][TRUE_POSITIVE]
    }
    assert summary.per_slice["night"][TRUE_POSITIVE].count == 1
    # Precision per predicted class: x has five "a" predictions, one TP; y one.
    assert summary.predicted == {"a": 6, "b": 1}
    assert summary.rates("a") == {"precision": 2 / 6, "recall": 2 / 5}
    assert summary.rates("b")["recall"] == 0.0
    assert summary.rates() == {"precision": 2 / 7, "recall": 2 / 7}
    assert summarize([]).rates() == {"precision": None, "recall": None}


def _rec(image, kind, gt, pred, conf=0.5, bbox=None, label="a"):
    return ErrorRecord(image, kind, gt, pred, label, "a", 0.5, conf, bbox)


def test_diff_tells_fixed_introduced_and_kept_errors_per_slice():
    old = [
        _rec("x", MISSED, 0, None),
        _rec("x", CONFUSION, 1, 0),
        _rec("x", TRUE_POSITIVE, 2, 1),
        _rec("y", BACKGROUND, None, 0, 0.9, (0, 0, 10, 10), None),
        _rec("y", BACKGROUND, None, 1, 0.8, (50, 50, 10, 10), None),
    ]
    new = [
        _rec("x", TRUE_POSITIVE, 0, 0),  # the miss is fixed
        _rec("x", CONFUSION, 1, 1),  # the confusion is kept
        _rec("x", MISSED, 2, None),  # a new miss
        _rec("y", BACKGROUND, None, 0, 0.7, (1, 0, 10, 10), None),  # same region
        _rec("y", BACKGROUND, None, 1, 0.6, (90, 90, 5, 5), None),  # new region
        _rec("y", DUPLICATE, 0, 2, 0.3),
        _rec("y", DUPLICATE, 0, 3, 0.4),  # one error: one shape, one kind
    ]
    diff = diff_versions(old, new)
    assert [(r.image_id, r.kind, r.gt_index) for r in diff.fixed] == [
        ("x", MISSED, 0),
        ("y", BACKGROUND, None),
    ]
    assert diff.fixed[1].bbox == (50, 50, 10, 10)
    assert [
        (r.image_id, r.kind, r.gt_index, r.pred_index) for r in diff.introduced
    ] == [
        ("x", MISSED, 2, None),
        ("y", DUPLICATE, 0, 3),  # the more confident stands for both
        ("y", BACKGROUND, None, 1),
    ]
    assert [(o.kind, n.pred_index) for o, n in diff.kept] == [
        (CONFUSION, 1),
        (BACKGROUND, 0),
    ]
    counts = diff.counts()
    assert counts["fixed"][MISSED] == 1 and counts["introduced"][DUPLICATE] == 1
    assert sum(counts["kept"].values()) == 2
    per = diff.per_slice({"x": "train", "y": ["test"]})
    assert (
        per["train"]["fixed"][MISSED] == 1 and per["train"]["introduced"][MISSED] == 1
    )
    assert per["test"]["introduced"][BACKGROUND] == 1
    assert per["test"]["fixed"][BACKGROUND] == 1


def test_diff_of_identical_records_changes_nothing_and_checks_its_threshold():
    records = match_image("x", SHAPES, DETS)
    diff = diff_versions(records, records)
    assert diff.fixed == () and diff.introduced == ()
    assert len(diff.kept) == len([r for r in records if r.kind != TRUE_POSITIVE])
    with pytest.raises(ValueError):
        diff_versions([], [], region_iou=0.0)
