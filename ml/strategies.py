"""The strategy registry and its parameters: each strategy's defaults and
ranking function (ml.rankers), and the checks, reference and form specs of its
parameters. ml.selection runs them; see its docstring for what each does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml.rankers import (
    Pool,
    rank_diversity,
    rank_hybrid,
    rank_random,
    rank_topk,
    rank_typicality,
)
from ml.scores import AGGREGATES
from ml.uncertainty import METHODS

DEFAULT_BATCH = 50
MAX_BATCH = 100_000
DEFAULT_CONTROL_SHARE = 0.1
MAX_WARMUP = 1_000_000

Ranker = Callable[[Pool, dict[str, Any], int], tuple[list[int], dict[str, np.ndarray]]]


@dataclass(frozen=True)
class Strategy:
    """A registered strategy: parameter defaults and its ranking function.

    ``uncertainty_method`` names the measure scoring must compute for it
    (None: uncertainty is not used); ``needs_embeddings`` tells scoring to
    store embeddings; ``needs_committee`` / ``needs_flip`` ask scoring for
    the previous version's and the mirror image's predictions.
    """

    name: str
    description: str
    rank: Ranker
    defaults: dict[str, Any] = field(default_factory=dict)
    uncertainty_method: str | None = None
    needs_embeddings: bool = False
    needs_committee: bool = False
    needs_flip: bool = False
    controlled: bool = True

    def method_for(self, params: dict[str, Any]) -> str | None:
        """The uncertainty method scoring must use with these (validated) params."""
        return params.get("method", self.uncertainty_method)


_COMMON = {
    "batch_size": DEFAULT_BATCH,
    "control_share": DEFAULT_CONTROL_SHARE,
    "warmup": 0,
}
_UNC = {**_COMMON, "aggregate": "max", "rare_boost": 0.0, "dedup": 0.0}
STRATEGIES: dict[str, Strategy] = {
    "random": Strategy(
        "random",
        "Seeded random order (no model needed).",
        rank_random,
        {"batch_size": DEFAULT_BATCH},
        controlled=False,
    ),
    **{
        m: Strategy(
            m,
            f"Most uncertain first ({m.replace('_', ' ')}).",
            rank_topk("uncertainty"),
            dict(_UNC),
            uncertainty_method=m,
            needs_embeddings=True,
        )
        for m in METHODS
    },
    "committee": Strategy(
        "committee",
        "Where the best and the previous model version disagree most.",
        rank_topk("disagreement"),
        {**_COMMON, "rare_boost": 0.0, "dedup": 0.0},
        needs_embeddings=True,
        needs_committee=True,
    ),
    "stability": Strategy(
        "stability",
        "Where boxes move most when the image is mirrored.",
        rank_topk("instability"),
        {**_COMMON, "rare_boost": 0.0, "dedup": 0.0},
        needs_embeddings=True,
        needs_flip=True,
    ),
    "diversity": Strategy(
        "diversity",
        "Greedy k-center on image embeddings, away from labelled images.",
        rank_diversity,
        dict(_COMMON),
        needs_embeddings=True,
    ),
    "hybrid": Strategy(
        "hybrid",
        "An uncertainty shortlist, then a diverse batch from it.",
        rank_hybrid,
        {
            **_COMMON,
            "method": "entropy",
            "aggregate": "max",
            "score": "uncertainty",
            "shortlist": 3,
            "alpha": 0.5,
            "coverage": 0.0,
            "coverage_by": "typicality",
            # 1.0: the setting the 5-seed backtest behind the default measured
            # (bench/RESULTS.md, "hybrid_rare").
            "rare_boost": 1.0,
            "dedup": 0.05,
            # Random picks until 150 items are ground truth: on held-out seeds
            # the strategy then never fell more than 0.14 points below random,
            # where without it a weak first model cost up to 2.9 points
            # (bench/RESULTS.md, "hybrid_warm").
            "warmup": 150,
            # 0: the OOD score plays no part (the backtest behind the defaults
            # had none to use).
            "ood_weight": 0.0,
        },
        uncertainty_method="entropy",
        needs_embeddings=True,
    ),
    "typicality": Strategy(
        "typicality",
        "Typical images of every cluster first (cold start, no model needed).",
        rank_typicality,
        {**_COMMON, "neighbours": 20},
        needs_embeddings=True,
    ),
}
COLD_START_STRATEGIES = ("typicality", "diversity", "random")
STRATEGY_NAMES = tuple(sorted(STRATEGIES))
"""The registry's names, sorted: the one choice set of every API field that
names a strategy (one enum in the schema)."""


def _number(key: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"params.{key}: must be a number from {lo} to {hi}")
    if not lo <= value <= hi:
        raise ValueError(f"params.{key}: must be a number from {lo} to {hi}")
    return float(value)


def _integer(key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"params.{key}: must be an integer from {lo} to {hi}")
    return value


_CHOICES: dict[str, tuple[str, ...]] = {
    "aggregate": (*AGGREGATES, "sum"),
    "method": tuple(METHODS),
    "coverage_by": ("typicality", "random"),
    "score": ("uncertainty", "disagreement", "instability", "mean"),
}
_RANGES: dict[str, tuple[str, float, float]] = {
    "batch_size": ("an integer", 1, MAX_BATCH),
    "control_share": ("a number", 0.0, 0.5),
    "rare_boost": ("a number", 0.0, 10.0),
    "dedup": ("a number", 0.0, 2.0),
    "alpha": ("a number", 0.0, 1.0),
    "coverage": ("a number", 0.0, 1.0),
    "shortlist": ("an integer", 1, 100),
    "neighbours": ("an integer", 1, 1000),
    "warmup": ("an integer", 0, MAX_WARMUP),
    "ood_weight": ("a number", 0.0, 1.0),
}
_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    key: (
        (lambda k, v, lo=lo, hi=hi: _integer(k, v, int(lo), int(hi)))
        if kind == "an integer"
        else (lambda k, v, lo=lo, hi=hi: _number(k, v, lo, hi))
    )
    for key, (kind, lo, hi) in _RANGES.items()
}


PARAM_HELP: dict[str, str] = {
    "batch_size": "images picked per batch (one batch per new model)",
    "control_share": "share of each batch picked at random, as a control",
    "warmup": "random picks until this many items are ground truth",
    "aggregate": "how the boxes' uncertainties make the image's",
    "method": "the uncertainty measure of each box",
    "score": "what the shortlist is ranked by",
    "shortlist": "shortlist size, in batches, before the diverse pick",
    "alpha": "weight of informativeness against diversity in each pick",
    "coverage": "share of the batch given to coverage picks",
    "coverage_by": "how coverage picks are chosen",
    "rare_boost": "boost for images with classes rare in the ground truth",
    "dedup": "embedding distance below which two picks are near-duplicates",
    "neighbours": "neighbours that define an image's typicality",
    "ood_weight": "weight of the item's OOD score blended into informativeness",
}


def param_reference(strategy: str) -> list[tuple[str, Any, str, str]]:
    """(parameter, the registry's default, what it accepts, what it does) for
    each parameter of ``strategy``: the settings page's reference. Raises
    KeyError for an unknown strategy."""
    out = []
    for key, default in STRATEGIES[strategy].defaults.items():
        if key in _CHOICES:
            allowed = "one of " + ", ".join(_CHOICES[key])
        else:
            kind, lo, hi = _RANGES[key]
            allowed = f"{kind} from {lo:,} to {hi:,}"
        out.append((key, default, allowed, PARAM_HELP.get(key, "")))
    return out


def param_specs(strategy: str) -> list[dict[str, Any]]:
    """One dict per parameter of ``strategy``: key, default, allowed and help
    (param_reference's), and the kind of input ("choice" with ``options``,
    "integer" or "number" with ``lo`` and ``hi``). KeyError for an unknown
    strategy."""
    out = []
    for key, default, allowed, help_text in param_reference(strategy):
        spec = {"key": key, "default": default, "allowed": allowed, "help": help_text}
        if key in _CHOICES:
            spec.update(kind="choice", options=_CHOICES[key])
        else:
            kind, lo, hi = _RANGES[key]
            spec.update(
                kind="integer" if kind == "an integer" else "number", lo=lo, hi=hi
            )
        out.append(spec)
    return out


PARAM_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(k for s in STRATEGIES.values() for k in s.defaults)
)
"""Every parameter of any strategy, in registry order (the settings form's
fields)."""


def validate_strategy_params(strategy: str, params: dict[str, Any] | None) -> dict:
    """Return ``params`` with defaults filled in.

    Raises ValueError naming the field and the reason: unknown strategy,
    unknown parameter, wrong type or out of range. ``k`` is accepted as the
    old name of ``batch_size``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"strategy: unknown {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        )
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError("params: must be an object")
    spec = STRATEGIES[strategy]
    out = dict(spec.defaults)
    for key, value in params.items():
        if key == "k" and "batch_size" in spec.defaults:
            key = "batch_size"
        if key not in spec.defaults:
            raise ValueError(f"params.{key}: unknown parameter for {strategy!r}")
        out[key] = value
    for key, value in out.items():
        if key in _CHECKS:
            out[key] = _CHECKS[key](key, value)
    for key, options in _CHOICES.items():
        if key in out and (not isinstance(out[key], str) or out[key] not in options):
            raise ValueError(f"params.{key}: must be one of {', '.join(options)}")
    return out
