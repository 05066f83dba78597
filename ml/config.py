"""Validation and defaults for the model and comparison configurations (JSON)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

ARCHITECTURE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.ya?ml$")
DEVICE_RE = re.compile(r"^(cpu|mps|cuda(:\d+)?|\d+(,\d+)*)$")
METRICS: tuple[str, ...] = ("map50", "map50_95", "precision", "recall")
OPTIMIZERS: tuple[str, ...] = (
    "auto",
    "SGD",
    "Adam",
    "AdamW",
    "NAdam",
    "RAdam",
    "RMSprop",
)

Check = Callable[[str, Any], Any]


def _allowing(text: str, check: Check, kind: str = "text", **bounds: Any) -> Check:
    """Attach what a check accepts, in words, and the kind of input it takes
    ("integer", "number", "bool", "choice", "auto_integer" or "text", with
    `lo`, `hi`, `step` or `options`): the settings page's fields."""
    check.allowed = text  # type: ignore[attr-defined]
    check.kind = kind  # type: ignore[attr-defined]
    check.bounds = bounds  # type: ignore[attr-defined]
    return check


def _int(lo: int, hi: int) -> Check:
    def check(field: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{field}: must be an integer")
        if not lo <= v <= hi:
            raise ValueError(f"{field}: must be from {lo} to {hi}")
        return v

    return _allowing(
        f"an integer from {lo:,} to {hi:,}", check, "integer", lo=lo, hi=hi
    )


def _float(lo: float, hi: float, *, lo_open: bool = False) -> Check:
    def check(field: str, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{field}: must be a number")
        v = float(v)
        if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
            bound = f"greater than {lo}" if lo_open else f"at least {lo}"
            raise ValueError(f"{field}: must be {bound} and at most {hi}")
        return v

    text = f"greater than {lo} and at most {hi}" if lo_open else f"from {lo} to {hi}"
    return _allowing(f"a number {text}", check, "number", lo=lo, hi=hi)


def _bool(field: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{field}: must be true or false")
    return v


_allowing("true or false", _bool, "bool")


def _regex(pattern: re.Pattern[str], what: str) -> Check:
    def check(field: str, v: Any) -> str:
        if not isinstance(v, str) or not pattern.match(v):
            raise ValueError(f"{field}: must be {what}")
        return v

    return _allowing(what, check)


def _choice(options: tuple[str, ...]) -> Check:
    def check(field: str, v: Any) -> str:
        if not isinstance(v, str) or v not in options:
            raise ValueError(f"{field}: must be one of {', '.join(options)}")
        return v

    return _allowing(f"one of {', '.join(options)}", check, "choice", options=options)


def _epochs(field: str, v: Any) -> int | str:
    if v == "auto":
        return v
    return _int(1, 10_000)(field, v)


_allowing(
    '"auto" (from epoch_budget) or an integer from 1 to 10,000',
    _epochs,
    "auto_integer",
    lo=1,
    hi=10_000,
)


def _imgsz(field: str, v: Any) -> int:
    v = _int(32, 4096)(field, v)
    if v % 32:
        raise ValueError(f"{field}: must be a multiple of 32")
    return v


_allowing(
    "a multiple of 32 from 32 to 4,096", _imgsz, "integer", lo=32, hi=4096, step=32
)


MODEL_FIELDS: dict[str, tuple[Any, Check]] = {
    # An architecture file bundled with ultralytics (random init). Never an
    # official .pt name: ultralytics would try to download it.
    "architecture": (
        "yolov8n.yaml",
        _regex(ARCHITECTURE_RE, "an architecture file name such as yolov8n.yaml"),
    ),
    # "auto": about `epoch_budget` images seen, in [min_epochs, max_epochs]
    # (many epochs for a small first set, few for a large one).
    "epochs": ("auto", _epochs),
    "epoch_budget": (2000, _int(100, 10_000_000)),
    "min_epochs": (10, _int(1, 10_000)),
    "max_epochs": (300, _int(1, 10_000)),
    "imgsz": (320, _imgsz),
    "batch": (16, _int(1, 1024)),
    "patience": (50, _int(0, 10_000)),
    # ultralytics ignores lr0 (and picks its own) while optimizer is "auto".
    "optimizer": ("auto", _choice(OPTIMIZERS)),
    "lr0": (0.01, _float(0.0, 1.0, lo_open=True)),
    "conf": (0.05, _float(0.0, 1.0)),
    "iou": (0.7, _float(0.0, 1.0)),
    "device": ("cpu", _regex(DEVICE_RE, "cpu, mps, cuda, cuda:N or GPU indices")),
    "seed": (0, _int(0, 2**31 - 1)),
}

COMPARISON_FIELDS: dict[str, tuple[Any, Check]] = {
    "metric": ("map50_95", _choice(METRICS)),
    "min_delta": (0.0, _float(0.0, 1.0)),
    "no_class_regression": (False, _bool),
    "class_tolerance": (0.02, _float(0.0, 1.0)),
    # Quality gate: never promote below this value of `metric`, or on fewer
    # test items than this (a comparison on 2 images means nothing).
    "min_score": (0.05, _float(0.0, 1.0)),
    "min_test_items": (10, _int(1, 1_000_000)),
}


def _validate(cfg: Any, fields: dict[str, tuple[Any, Check]], name: str) -> dict:
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{name}: must be an object")
    unknown = sorted(str(k) for k in cfg if k not in fields)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field")
    return {
        key: check(key, cfg[key]) if key in cfg else default
        for key, (default, check) in fields.items()
    }


def field_reference(fields: dict[str, tuple[Any, Check]]) -> list[tuple[str, Any, str]]:
    """(key, default, what it accepts in words) for every field of MODEL_FIELDS
    or COMPARISON_FIELDS, in their order: the settings page's reference."""
    return [(key, default, check.allowed) for key, (default, check) in fields.items()]


def field_specs(fields: dict[str, tuple[Any, Check]]) -> list[dict[str, Any]]:
    """One dict per field of MODEL_FIELDS or COMPARISON_FIELDS, in their order:
    key, default, allowed (in words), kind and its bounds (see _allowing)."""
    return [
        {
            "key": key,
            "default": default,
            "allowed": check.allowed,  # type: ignore[attr-defined]
            "kind": check.kind,  # type: ignore[attr-defined]
            **check.bounds,  # type: ignore[attr-defined]
        }
        for key, (default, check) in fields.items()
    ]


def validate_model_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """Return the model configuration with defaults filled in.

    ``conf`` and ``iou`` are the thresholds used when scoring the pool; the
    rest go to training (``lr0`` only takes effect with an explicit
    ``optimizer``: ultralytics chooses its own while it is ``"auto"``).
    Raises ValueError("<field>: <reason>") for unknown keys, wrong types
    (bool is not an integer) and out-of-range values.
    """
    return _validate(cfg, MODEL_FIELDS, "model configuration")


def epochs_for(cfg: dict[str, Any], n_train: int) -> int:
    """The epochs a validated model configuration asks for with ``n_train``
    training images: its ``epochs``, or for ``"auto"`` about ``epoch_budget``
    images seen, within ``[min_epochs, max_epochs]``."""
    if cfg["epochs"] != "auto":
        return int(cfg["epochs"])
    lo, hi = cfg["min_epochs"], max(cfg["min_epochs"], cfg["max_epochs"])
    return int(min(hi, max(lo, round(cfg["epoch_budget"] / max(1, n_train)))))


def validate_comparison_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """Return the comparison configuration with defaults filled in.

    Raises ValueError("<field>: <reason>") like :func:`validate_model_config`.
    """
    return _validate(cfg, COMPARISON_FIELDS, "comparison configuration")


def architecture_task(architecture: str) -> str:
    """``"segment"`` for ``*-seg.yaml`` architectures, else ``"detect"``."""
    stem = architecture.rsplit(".", 1)[0]
    return "segment" if stem.endswith("-seg") else "detect"
