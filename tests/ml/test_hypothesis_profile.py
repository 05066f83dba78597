"""The hypothesis profile of tests/conftest.py holds for every run (tests/ml too)."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DRAWN: list[int] = []


@pytest.mark.skipif(
    os.environ.get("ALWEB_HYPOTHESIS_PROFILE", "ci") != "ci",
    reason="another hypothesis profile was chosen by hand",
)
def test_the_ci_profile_is_deterministic_and_keeps_no_example_database():
    assert settings.default.derandomize is True
    assert settings.default.database is None
    assert settings.default.deadline is None
    assert settings.default.max_examples == 100


@given(st.integers())
def _draw(n):
    DRAWN.append(n)


@pytest.mark.skipif(
    os.environ.get("ALWEB_HYPOTHESIS_PROFILE", "ci") != "ci",
    reason="another hypothesis profile was chosen by hand",
)
def test_the_same_test_draws_the_same_examples_every_time():
    DRAWN.clear()
    _draw()
    first = list(DRAWN)
    DRAWN.clear()
    _draw()
    assert DRAWN == first and len(first) > 10
