"""The queue reason in words (annotate.explain), from stored priority reasons."""

from types import SimpleNamespace

import pytest

from annotate.explain import priority_explanation


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ({}, ""),
        (
            {"strategy": "hybrid", "rank": 2, "in_batch": True, "model_name": "v2"},
            "in the next batch of hybrid (pick 3); scored by v2",
        ),
        (
            {
                "strategy": "hybrid",
                "rank": 0,
                "in_batch": True,
                "warmup": True,
                "model_name": "v1",
                "components": {"uncertainty": 0.5},
            },
            "warm-up pick 1: hybrid picks at random until enough items are "
            "labelled for its model to judge; scored by v1; uncertainty 0.50",
        ),
        (
            {
                "strategy": "hybrid",
                "rank": 4,
                "in_batch": True,
                "warmup": True,
                "warmup_until": 150,
                "ground_truth": 100,
            },
            "warm-up pick 5: hybrid picks at random until 150 items are ground "
            "truth (100 now)",
        ),
        (
            {"strategy": "hybrid", "rank": 70, "in_batch": False, "warmup": True},
            "ordered by hybrid, rank 71",
        ),
        (
            {"strategy": "hybrid", "rank": 4, "in_batch": True, "control": True},
            "random control pick: a share of every batch is chosen at random so "
            "the strategy can be compared with chance",
        ),
        ({"pin": "pinned"}, "pinned to the front of the queue by a manager"),
    ],
)
def test_priority_explanation(reason, expected):
    assert priority_explanation(SimpleNamespace(priority_reason=reason)) == expected
