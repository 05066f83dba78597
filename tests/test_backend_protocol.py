"""Every ML backend implements ml.backend.Backend: the ultralytics module and each
test double, by isinstance (runtime_checkable) and by signature."""

import importlib
import inspect

import pytest

from ml.backend import Backend
from tests.ml.test_backtest import ScriptedBackend

MEMBERS = ("train", "validate", "score_images")
BACKENDS = {
    "ml.backends.ultralytics": lambda: importlib.import_module(
        "ml.backends.ultralytics"
    ),
    "tests.models_mgmt.fake_backend": lambda: importlib.import_module(
        "tests.models_mgmt.fake_backend"
    ),
    "tests.models_mgmt.varied_backend": lambda: importlib.import_module(
        "tests.models_mgmt.varied_backend"
    ),
    "tests.runs.slow_backend": lambda: importlib.import_module(
        "tests.runs.slow_backend"
    ),
    "tests.ml.test_backtest.ScriptedBackend": ScriptedBackend,
}


def _parameters(function, *, drop_self: bool) -> list[tuple]:
    params = list(inspect.signature(function).parameters.values())
    if drop_self:
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_backend_implements_the_protocol(name):
    backend = BACKENDS[name]()
    assert isinstance(backend, Backend), name
    for member in MEMBERS:
        expected = _parameters(getattr(Backend, member), drop_self=True)
        actual = _parameters(getattr(backend, member), drop_self=False)
        assert actual == expected, (name, member)


def test_the_signature_check_tells_a_wrong_backend():
    class Wrong:
        def train(self, data_yaml, base, out_dir, config):
            return None

        def validate(self, weights, data_yaml, **kw):
            return {}

        def score_images(self, weights, image_paths):
            return iter(())

    wrong = Wrong()
    assert isinstance(wrong, Backend)  # runtime_checkable sees names only
    expected = _parameters(Backend.train, drop_self=True)
    assert _parameters(wrong.train, drop_self=False) != expected
