"""Decide whether a candidate model version beats the incumbent (best) one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from ml.config import validate_comparison_config

EQUAL_TOLERANCE = 1e-9
"""Metric differences this small are float noise and count as equal."""


@dataclass(frozen=True)
class Decision:
    """The outcome of a comparison; ``promote`` is True iff the candidate won."""

    winner: Literal["candidate", "incumbent"]
    promote: bool
    candidate_value: float
    incumbent_value: float | None
    reason: str
    regressed_classes: tuple[str, ...] = ()
    # "test_items" or "min_score" when the quality gate refused the candidate.
    gated: str | None = None


def _metric(metrics: dict[str, Any], name: str, who: str) -> float:
    v = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"{who} metrics: {name} is missing or not a finite number")
    return float(v)


def _class_regressions(
    candidate: dict[str, Any], incumbent: dict[str, Any], tolerance: float
) -> list[tuple[str, float, float]]:
    """Classes whose map50_95 drops by more than ``tolerance``.

    A class the incumbent scored but the candidate lacks counts as 0.0: a
    class the new model no longer detects is the worst regression.
    """
    inc_pc = incumbent.get("per_class") or {}
    cand_pc = candidate.get("per_class") or {}
    out = []
    for name in sorted(inc_pc):
        before = float((inc_pc[name] or {}).get("map50_95", 0.0))
        after = float((cand_pc.get(name) or {}).get("map50_95", 0.0))
        if before - after > tolerance + EQUAL_TOLERANCE:
            out.append((name, before, after))
    return out


def compare(
    candidate: dict[str, Any],
    incumbent: dict[str, Any] | None,
    config: dict[str, Any] | None,
    *,
    test_items: int | None = None,
) -> Decision:
    """Compare metric dicts (``map50``, ``map50_95``, ``precision``, ``recall``,
    ``per_class``) under a comparison configuration.

    First the quality gate: a candidate evaluated on fewer than
    ``min_test_items`` test items (when ``test_items`` is given), or scoring
    below ``min_score`` on ``metric``, is never promoted (``gated`` says
    why). Then, with no incumbent the candidate wins; otherwise it must exceed
    the incumbent by more than ``min_delta`` on ``metric`` (equal values keep the
    incumbent), and with ``no_class_regression`` no class may lose more than
    ``class_tolerance`` of map50_95. Raises ValueError for a bad config or a
    missing metric.
    """
    cfg = validate_comparison_config(config)
    name = cfg["metric"]
    c = _metric(candidate, name, "candidate")
    i_value = None if incumbent is None else _metric(incumbent, name, "incumbent")
    if test_items is not None and test_items < cfg["min_test_items"]:
        return Decision(
            "incumbent",
            False,
            c,
            i_value,
            f"not promoted: evaluated on {test_items} test item"
            f"{'' if test_items == 1 else 's'}, fewer than the "
            f"{cfg['min_test_items']} a meaningful comparison needs",
            gated="test_items",
        )
    if c < cfg["min_score"] - EQUAL_TOLERANCE:
        return Decision(
            "incumbent",
            False,
            c,
            i_value,
            f"not promoted: {name} {c:.4f} is below the floor {cfg['min_score']:.4f}",
            gated="min_score",
        )
    if incumbent is None:
        return Decision("candidate", True, c, None, "no current best model")
    i = _metric(incumbent, name, "incumbent")
    diff = c - i
    if abs(diff) <= EQUAL_TOLERANCE:
        return Decision(
            "incumbent",
            False,
            c,
            i,
            f"{name} is equal ({c:.4f}); the current best model stays",
        )
    if diff <= cfg["min_delta"] + EQUAL_TOLERANCE:
        verb = "is worse" if diff < 0 else "does not improve enough"
        return Decision(
            "incumbent",
            False,
            c,
            i,
            f"{name} {verb}: {c:.4f} vs {i:.4f} (needs more than "
            f"+{cfg['min_delta']:.4f})",
        )
    if cfg["no_class_regression"]:
        regressions = _class_regressions(candidate, incumbent, cfg["class_tolerance"])
        if regressions:
            detail = ", ".join(f"{n!r} {b:.4f} -> {a:.4f}" for n, b, a in regressions)
            return Decision(
                "incumbent",
                False,
                c,
                i,
                f"{name} improves {i:.4f} -> {c:.4f} but map50_95 regresses by "
                f"more than {cfg['class_tolerance']:.4f} on class {detail}",
                tuple(n for n, _, _ in regressions),
            )
    return Decision("candidate", True, c, i, f"{name} improves {i:.4f} -> {c:.4f}")
