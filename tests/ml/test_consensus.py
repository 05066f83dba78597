"""ml.consensus: the agreement of two versions against hand-computed values, and
the seeded choice of items that get two annotators."""

import pytest

from ml.consensus import agreement, check_due, consensus_selected, shape_iou


def box(label, x, y, w, h):
    return {"kind": "box", "label": label, "bbox": [x, y, w, h]}


def poly(label, *points):
    return {"kind": "polygon", "label": label, "points": [list(p) for p in points]}


A = box("cat", 0, 0, 10, 10)
# IoU with A: 50 / 150 = 1/3 (below 0.5); A_NEAR: 90 / 110 (above).
A_HALF = box("cat", 5, 0, 10, 10)
A_NEAR = box("cat", 1, 0, 10, 10)
D = box("dog", 50, 50, 10, 10)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([], [], 1.0),  # both say "nothing here"
        ([A], [], 0.0),
        ([], [A], 0.0),
        ([A], [A], 1.0),
        ([A], [A_NEAR], 1.0),  # IoU 0.818 >= 0.5
        ([A], [A_HALF], 0.0),  # IoU 1/3 < 0.5
        ([A], [box("dog", 0, 0, 10, 10)], 0.0),  # same place, other label
        ([A, D], [A], 2 * 1 / 3),  # one match of 2 + 1 shapes
        ([A, D], [A_NEAR, D], 1.0),
        ([A, D], [box("dog", 0, 0, 10, 10), box("cat", 50, 50, 10, 10)], 0.0),
        # One-to-one: two cats of b on one cat of a match once: 2*1/(1+2).
        ([A], [A, A_NEAR], 2 / 3),
        ([A, A_NEAR], [A_NEAR, A], 1.0),
        # Polygons by area: the triangle is half of the square (IoU 0.5).
        (
            [poly("cat", (0, 0), (10, 0), (10, 10), (0, 10))],
            [poly("cat", (0, 0), (10, 0), (10, 10))],
            1.0,
        ),
        (
            [poly("cat", (0, 0), (10, 0), (10, 10), (0, 10))],
            [poly("cat", (0, 0), (10, 0), (0, 10), (0, 0))],
            1.0,
        ),
        # A polygon against a box: their bounds (same square here).
        ([poly("cat", (0, 0), (10, 0), (10, 10))], [A], 1.0),
    ],
)
def test_agreement_matches_hand_computed_f1(a, b, expected):
    assert agreement(a, b) == pytest.approx(expected)
    assert agreement(b, a) == pytest.approx(expected)


def test_greedy_matching_takes_the_highest_iou_first():
    # b0 overlaps a0 (0.818) and a1 (IoU 80/120 = 0.667); b1 only a1 (0.818).
    a = [box("cat", 0, 0, 10, 10), box("cat", 2, 0, 10, 10)]
    b = [box("cat", 1, 0, 10, 10), box("cat", 3, 0, 10, 10)]
    assert agreement(a, b) == 1.0


def test_the_threshold_is_inclusive_and_checked():
    tri = poly("cat", (0, 0), (10, 0), (10, 10))
    square = poly("cat", (0, 0), (10, 0), (10, 10), (0, 10))
    assert shape_iou(tri, square) == pytest.approx(0.5)
    assert agreement([tri], [square], iou=0.5) == 1.0
    assert agreement([tri], [square], iou=0.51) == 0.0
    assert agreement([A], [A_HALF], iou=0.3) == 1.0
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="iou"):
            agreement([A], [A], iou=bad)


def test_consensus_selection_is_seeded_and_follows_the_share():
    picked = [i for i in range(1000) if consensus_selected(i, 7, 0.3)]
    assert 240 < len(picked) < 360
    assert picked == [i for i in range(1000) if consensus_selected(i, 7, 0.3)]
    assert picked != [i for i in range(1000) if consensus_selected(i, 8, 0.3)]
    assert not any(consensus_selected(i, 7, 0.0) for i in range(200))
    assert all(consensus_selected(i, 7, 1.0) for i in range(200))
    # A larger share keeps every item a smaller one picked.
    assert set(picked) <= {i for i in range(1000) if consensus_selected(i, 7, 0.5)}
    with pytest.raises(ValueError, match="share"):
        consensus_selected(1, 7, 1.5)


def test_check_claims_are_seeded_per_annotator_and_follow_the_share():
    due = [n for n in range(1000) if check_due(3, n, 7, 0.2)]
    assert 150 < len(due) < 250
    assert due == [n for n in range(1000) if check_due(3, n, 7, 0.2)]
    assert due != [n for n in range(1000) if check_due(4, n, 7, 0.2)]
    assert due != [n for n in range(1000) if check_due(3, n, 8, 0.2)]
    # Not the consensus draw under another name.
    assert due != [n for n in range(1000) if consensus_selected(n, 7, 0.2)]
    assert not any(check_due(3, n, 7, 0.0) for n in range(200))
    assert all(check_due(3, n, 7, 1.0) for n in range(200))
    with pytest.raises(ValueError, match="share"):
        check_due(3, 1, 7, -0.1)
