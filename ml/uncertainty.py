"""Uncertainty of detections and images from per-class scores, always in [0, 1].

A YOLO detection carries one *independent sigmoid* score per class, so the
scores of a box do not sum to 1 and "none of these classes" (background) has
no explicit score. Every measure here therefore looks at the candidates
``class scores + background`` where the background mass is ``1 - max(score)``:
a box whose best class scores 0.3 is 70 % likely to be nothing at all, and
that doubt is exactly what an annotator resolves.

* ``entropy``: the candidates normalised to sum 1, Shannon entropy divided by
  ``log(nc + 1)`` so a uniform distribution scores 1.
* ``margin``: ``1 - (top1 - top2)`` over the candidates (for one class this is
  ``1 - |2s - 1|``: 1 at s = 0.5, 0 at s = 0 or 1).
* ``least_confidence``: ``1 - max(score)``.

An image aggregates its detections with ``max``, ``mean`` or ``sum``, where
``sum`` is the noisy-OR ``1 - prod(1 - u)``: it grows with every uncertain
box like a sum but stays in [0, 1].

An image with **no detections** scores ``EMPTY_IMAGE_UNCERTAINTY = 0.5``.
Scoring runs at a low confidence threshold (0.05), so a model that finds
nothing at all is usually looking at a true background image (little to
learn) but may also be blind to an unseen kind of object (much to learn).
0.5 is the neutral "unknown": such images rank below images with genuinely
ambiguous boxes and above images whose boxes are all confident. Callers can
pass ``empty=`` to choose otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from ml.types import Detection

EMPTY_IMAGE_UNCERTAINTY = 0.5
METHODS: tuple[str, ...] = ("entropy", "margin", "least_confidence")
AGGREGATES: tuple[str, ...] = ("max", "mean", "sum")


def _candidates(scores: Sequence[float]) -> list[float]:
    """Class scores clamped to [0, 1] plus the background mass 1 - max.

    Raises ValueError for no scores or a non-finite score.
    """
    if len(scores) == 0:
        raise ValueError("class scores must not be empty")
    clamped = []
    for s in scores:
        s = float(s)
        if not math.isfinite(s):
            raise ValueError(f"class score must be finite, got {s!r}")
        clamped.append(min(1.0, max(0.0, s)))
    return clamped + [1.0 - max(clamped)]


def entropy(scores: Sequence[float]) -> float:
    """Normalised entropy of the class scores plus background (module docstring)."""
    cand = _candidates(scores)
    total = sum(cand)  # >= max + (1 - max) = 1, never zero
    h = 0.0
    for p in cand:
        # Guard the share itself, not p: a subnormal p over a total > 1
        # underflows to 0.0, and log(0.0) raises. Such a share adds nothing.
        q = p / total
        if q > 0.0:
            h -= q * math.log(q)
    return min(1.0, max(0.0, h / math.log(len(cand))))


def margin(scores: Sequence[float]) -> float:
    """``1 - (top1 - top2)`` over class scores plus background, in [0, 1]."""
    top = sorted(_candidates(scores), reverse=True)
    return min(1.0, max(0.0, 1.0 - (top[0] - top[1])))


def least_confidence(scores: Sequence[float]) -> float:
    """``1 - max(score)``: the background mass, in [0, 1]."""
    return _candidates(scores)[-1]


DETECTION_MEASURES: dict[str, Callable[[Sequence[float]], float]] = {
    "entropy": entropy,
    "margin": margin,
    "least_confidence": least_confidence,
}


def aggregate_values(values: Iterable[float], aggregate: str, empty: float) -> float:
    """Combine per-detection uncertainties; ``empty`` when there are none."""
    vals = list(values)
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if not vals:
        return empty
    if aggregate == "max":
        return max(vals)
    if aggregate == "mean":
        return sum(vals) / len(vals)
    prod = 1.0
    for v in vals:
        prod *= 1.0 - v
    return min(1.0, max(0.0, 1.0 - prod))


def image_uncertainty(
    detections: Sequence[Detection] | Sequence[Sequence[float]],
    method: str = "entropy",
    aggregate: str = "max",
    *,
    empty: float = EMPTY_IMAGE_UNCERTAINTY,
) -> float:
    """Uncertainty of one image in [0, 1] from its detections (or score vectors).

    A detection with no class-score vector falls back to its single
    confidence. Raises ValueError for an unknown method or aggregate, or an
    ``empty`` outside [0, 1].
    """
    if method not in DETECTION_MEASURES:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not 0.0 <= empty <= 1.0:
        raise ValueError("empty must be in [0, 1]")
    measure = DETECTION_MEASURES[method]
    values = []
    for det in detections:
        if isinstance(det, Detection):
            scores = det.class_scores or (det.confidence,)
        else:
            scores = det
        values.append(measure(scores))
    return aggregate_values(values, aggregate, empty)
