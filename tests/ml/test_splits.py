from collections import Counter

import pytest

from ml.splits import BACKGROUND, assign_splits, validate_split_ratios

R = {"train": 0.8, "val": 0.1, "test": 0.1}


def test_single_label_pool_matches_the_ratios_exactly():
    items = [(i, frozenset({"car"})) for i in range(100)]
    counts = Counter(assign_splits(items, R, seed=0).values())
    assert counts == {"train": 80, "val": 10, "test": 10}


def test_assignment_is_deterministic_and_independent_of_input_order():
    items = [(i, frozenset({"car"} if i % 3 else {"dog"})) for i in range(60)]
    a = assign_splits(items, R, seed=5)
    assert a == assign_splits(list(reversed(items)), R, seed=5)
    assert sorted(a) == list(range(60))


def test_seed_changes_which_items_go_where():
    items = [(i, frozenset({"car"})) for i in range(50)]
    assert assign_splits(items, R, seed=1) != assign_splits(items, R, seed=2)


def test_a_rare_label_reaches_every_split():
    items = [(i, frozenset({"car"})) for i in range(90)]
    items += [(100 + i, frozenset({"car", "unicorn"})) for i in range(10)]
    result = assign_splits(items, R, seed=0)
    rare = Counter(result[100 + i] for i in range(10))
    assert rare == {"train": 8, "val": 1, "test": 1}


def test_existing_counts_steer_new_items_to_the_lagging_splits():
    existing = {"train": {"car": 16}, "val": {}, "test": {}}
    items = [(i, frozenset({"car"})) for i in range(4)]
    counts = Counter(assign_splits(items, R, seed=0, existing_counts=existing).values())
    assert counts == {"val": 2, "test": 2}


def test_items_without_labels_are_stratified_as_background():
    items = [(i, frozenset()) for i in range(10)]
    counts = Counter(assign_splits(items, R, seed=0).values())
    assert counts == {"train": 8, "val": 1, "test": 1}
    assert BACKGROUND == ""


def test_a_split_with_ratio_zero_gets_nothing():
    items = [(i, frozenset({"car"})) for i in range(30)]
    result = assign_splits(items, {"train": 0.9, "val": 0.1, "test": 0}, seed=0)
    assert "test" not in result.values()


@pytest.mark.parametrize(
    ("ratios", "field"),
    [
        ({"train": 0.8, "val": 0.1}, "ratios.test"),
        ({"train": 0.8, "val": 0.1, "test": 0.1, "dev": 0}, "ratios.dev"),
        ({"train": 0.8, "val": 0.3, "test": -0.1}, "ratios.test"),
        ({"train": 0.8, "val": 0.1, "test": 0.2}, "ratios:"),
        ({"train": 0, "val": 0.5, "test": 0.5}, "ratios.train"),
        ({"train": "0.8", "val": 0.1, "test": 0.1}, "ratios.train"),
        ({"train": True, "val": 0, "test": 0}, "ratios.train"),
        ({"train": float("nan"), "val": 0.1, "test": 0.1}, "ratios.train"),
        ([0.8, 0.1, 0.1], "ratios:"),
    ],
)
def test_bad_ratios_are_rejected_naming_the_field(ratios, field):
    with pytest.raises(ValueError) as exc:
        validate_split_ratios(ratios)
    assert str(exc.value).startswith(field)


def test_ratios_within_float_tolerance_are_accepted():
    out = validate_split_ratios({"train": 0.7, "val": 0.2, "test": 0.1 + 1e-9})
    assert out == pytest.approx({"train": 0.7, "val": 0.2, "test": 0.1})


def test_duplicate_items_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        assign_splits([(1, frozenset()), (1, frozenset())], R, seed=0)
