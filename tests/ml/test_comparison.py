import pytest

from ml.comparison import compare


def metrics(value, **per_class):
    return {
        "map50": value,
        "map50_95": value,
        "precision": value,
        "recall": value,
        "per_class": {k: {"map50": v, "map50_95": v} for k, v in per_class.items()},
    }


def test_without_an_incumbent_the_candidate_wins():
    d = compare(metrics(0.1), None, {})
    assert (d.winner, d.promote, d.incumbent_value) == ("candidate", True, None)


def test_clearly_better_candidate_is_promoted():
    d = compare(metrics(0.6), metrics(0.4), {"metric": "map50"})
    assert (d.winner, d.promote) == ("candidate", True)
    assert (d.candidate_value, d.incumbent_value) == (0.6, 0.4)
    assert "map50 improves" in d.reason


def test_clearly_worse_candidate_is_not_promoted():
    d = compare(metrics(0.3), metrics(0.5), {})
    assert (d.winner, d.promote) == ("incumbent", False)
    assert "worse" in d.reason


def test_equal_metrics_keep_the_incumbent():
    d = compare(metrics(0.5), metrics(0.5), {})
    assert (d.winner, d.promote) == ("incumbent", False)
    assert "equal" in d.reason


def test_improvement_must_exceed_min_delta():
    d = compare(metrics(0.52), metrics(0.5), {"min_delta": 0.02})
    assert not d.promote and "does not improve enough" in d.reason
    assert compare(metrics(0.53), metrics(0.5), {"min_delta": 0.02}).promote


def test_class_regression_blocks_promotion_and_names_the_class():
    cand = metrics(0.7, car=0.9, dog=0.3)
    inc = metrics(0.5, car=0.5, dog=0.5)
    d = compare(cand, inc, {"no_class_regression": True})
    assert (d.winner, d.promote) == ("incumbent", False)
    assert "'dog'" in d.reason and "'car'" not in d.reason
    assert d.regressed_classes == ("dog",)
    assert compare(cand, inc, {}).promote  # without the rule it wins


def test_class_drop_within_tolerance_does_not_block():
    cand = metrics(0.7, car=0.49)
    inc = metrics(0.5, car=0.5)
    assert compare(cand, inc, {"no_class_regression": True}).promote


def test_class_missing_from_candidate_counts_as_a_regression():
    d = compare(metrics(0.7), metrics(0.5, car=0.5), {"no_class_regression": True})
    assert d.regressed_classes == ("car",)


def test_missing_metric_or_bad_config_raises():
    with pytest.raises(ValueError, match="candidate metrics: map50_95"):
        compare({"map50": 1.0}, None, {})
    with pytest.raises(ValueError, match="metric"):
        compare(metrics(0.5), None, {"metric": "f1"})


def test_the_quality_gate_refuses_a_candidate_on_too_few_test_items():
    d = compare(metrics(0.9), None, {}, test_items=2)
    assert (d.winner, d.promote, d.gated) == ("incumbent", False, "test_items")
    assert "2 test items" in d.reason and "10" in d.reason
    assert compare(metrics(0.9), None, {"min_test_items": 2}, test_items=2).promote
    d = compare(metrics(0.9), metrics(0.1), {}, test_items=9)
    assert (d.promote, d.incumbent_value) == (False, 0.1)


def test_the_quality_gate_refuses_a_model_below_the_floor():
    # The README's first model used to score 0.000 and be promoted anyway.
    d = compare(metrics(0.0), None, {}, test_items=30)
    assert (d.promote, d.gated) == (False, "min_score")
    assert "below the floor 0.0500" in d.reason
    assert compare(metrics(0.0), None, {"min_score": 0.0}, test_items=30).promote
    ok = compare(metrics(0.06), None, {}, test_items=30)
    assert (ok.promote, ok.gated) == (True, None)
