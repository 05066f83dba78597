"""The ultralytics backend's attribute swap (its plot switch-off) puts back exactly
what was there, also when the block raises."""

import types

import pytest

from ml.backends.ultralytics.train import attribute_swapped


class Base:
    def plot(self):
        return "base"


class Child(Base):
    pass


def test_an_own_attribute_is_put_back():
    module = types.SimpleNamespace(plot=lambda: "real")
    original = module.plot
    with attribute_swapped(module, "plot", lambda: "noop"):
        assert module.plot() == "noop"
    assert module.plot is original


def test_an_inherited_attribute_shows_through_again_even_after_an_error():
    with pytest.raises(RuntimeError):
        with attribute_swapped(Child, "plot", lambda self: "noop"):
            assert Child().plot() == "noop"
            raise RuntimeError("boom")
    assert "plot" not in vars(Child) and Child().plot() == "base"
