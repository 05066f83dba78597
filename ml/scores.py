"""Per-image informativeness scores for active learning, from model predictions.

Every score is a float in [0, 1] (higher = more worth labelling) and is
defined for every input, including images with no detections:

* :func:`uncertainty`: a per-box measure (``least_confidence``, ``margin``,
  ``entropy``; see :mod:`ml.uncertainty`) aggregated over the image's boxes by
  ``max``, ``mean`` or ``noisy_or`` (``1 - prod(1 - u)``). An image with no
  detections scores ``empty`` (default 0.5, see ml.uncertainty).
* :func:`disagreement`: committee disagreement between two model versions
  (the best and the previous one) on the same image: boxes are matched by IoU;
  a matched pair disagrees by ``1 - IoU * class_agreement``, an unmatched box
  by 1, each weighted by its confidence. Two empty predictions agree (0).
* :func:`instability`: localisation stability under a horizontal flip: the
  same disagreement between the prediction on the image and the un-flipped
  prediction on its mirror image.
* :func:`rare_boost`: how strongly the image is predicted to hold the classes
  that are rare in the ground truth (inverse frequency weights, the rarest
  class weighs 1).
* :func:`typicality`: density of an embedding among its neighbours (TypiClust's
  inverse mean distance to the k nearest neighbours), scaled to [0, 1]; the
  cold start labels typical images of every cluster first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ml.geometry import box_iou
from ml.types import Detection
from ml.uncertainty import DETECTION_MEASURES, EMPTY_IMAGE_UNCERTAINTY, METHODS

AGGREGATES: tuple[str, ...] = ("max", "mean", "noisy_or")
MATCH_IOU = 0.3
"""Boxes of two predictions overlapping at least this much are the same object."""


def _finite_unit(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def aggregate(values: Sequence[float], how: str, empty: float) -> float:
    """Combine per-box values in [0, 1]; ``empty`` when there are none."""
    if how == "sum":  # the old name of noisy_or
        how = "noisy_or"
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}")
    if not values:
        return empty
    if how == "max":
        return _finite_unit(max(values))
    if how == "mean":
        return _finite_unit(sum(values) / len(values))
    log_keep = 0.0
    for v in values:
        v = _finite_unit(v)
        if v >= 1.0:
            return 1.0
        log_keep += math.log1p(-v)
    return _finite_unit(-math.expm1(log_keep))


def uncertainty(
    detections: Sequence[Detection],
    method: str = "entropy",
    how: str = "max",
    *,
    empty: float = EMPTY_IMAGE_UNCERTAINTY,
) -> float:
    """Aggregated per-box uncertainty of one image (module docstring)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if not 0.0 <= empty <= 1.0:
        raise ValueError("empty must be in [0, 1]")
    measure = DETECTION_MEASURES[method]
    values = [measure(d.class_scores or (d.confidence,)) for d in detections]
    return aggregate(values, how, empty)


def _class_vector(det: Detection, nc: int) -> np.ndarray:
    v = np.zeros(nc, dtype=np.float64)
    scores = det.class_scores or ()
    for i, s in enumerate(scores[:nc]):
        if math.isfinite(s):
            v[i] = min(1.0, max(0.0, s))
    total = v.sum()
    return v / total if total > 0 else v


def _match_disagreement(
    a: Sequence[Detection], b: Sequence[Detection], iou: float = MATCH_IOU
) -> float:
    """Confidence-weighted disagreement of two box sets (see module docstring)."""
    if not a and not b:
        return 0.0
    nc = max((len(d.class_scores) for d in (*a, *b)), default=1) or 1
    pairs = sorted(
        (
            (box_iou(da.bbox, db.bbox), i, j)
            for i, da in enumerate(a)
            for j, db in enumerate(b)
        ),
        reverse=True,
    )
    used_a, used_b = set(), set()
    weighted = weights = 0.0
    for overlap, i, j in pairs:
        if overlap < iou:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pa, pb = _class_vector(a[i], nc), _class_vector(b[j], nc)
        agree = 1.0 - 0.5 * float(np.abs(pa - pb).sum())  # 1 - total variation
        w = max(a[i].confidence, b[j].confidence)
        weighted += w * (1.0 - overlap * agree)
        weights += w
    for k, d in enumerate(a):
        if k not in used_a:
            weighted += d.confidence
            weights += d.confidence
    for k, d in enumerate(b):
        if k not in used_b:
            weighted += d.confidence
            weights += d.confidence
    return _finite_unit(weighted / weights) if weights > 0 else 0.0


def disagreement(current: Sequence[Detection], previous: Sequence[Detection]) -> float:
    """Committee disagreement between two model versions on one image."""
    return _match_disagreement(current, previous)


def unflip(detections: Sequence[Detection], width: float) -> tuple[Detection, ...]:
    """Detections on a horizontally mirrored image, mapped back to the original."""
    out = []
    for d in detections:
        x, y, w, h = d.bbox
        points = None
        if d.points:
            points = tuple((width - px, py) for px, py in d.points)
        out.append(
            Detection(
                d.label, d.confidence, d.class_scores, (width - x - w, y, w, h), points
            )
        )
    return tuple(out)


def instability(
    detections: Sequence[Detection], flipped: Sequence[Detection], width: float
) -> float:
    """Localisation instability: disagreement with the mirror image's prediction
    (``flipped`` as predicted on the mirrored image, in its own coordinates)."""
    return _match_disagreement(detections, unflip(flipped, width))


def class_weights(
    class_names: Sequence[str], counts: Mapping[str, int]
) -> dict[str, float]:
    """Inverse-frequency weight per class from ground-truth instance counts:
    the rarest class weighs 1, a class k times as common weighs 1/k (add-one
    smoothing, so an unseen class is the rarest)."""
    smoothed = {c: counts.get(c, 0) + 1 for c in class_names}
    rarest = min(smoothed.values()) if smoothed else 1
    return {c: rarest / n for c, n in smoothed.items()}


def rare_boost(
    detections: Sequence[Detection],
    class_names: Sequence[str],
    weights: Mapping[str, float],
) -> float:
    """Highest ``score(class) * weight(class)`` over the image's boxes."""
    best = 0.0
    for d in detections:
        scores = d.class_scores or ()
        for i, name in enumerate(class_names[: len(scores)]):
            s = scores[i]
            if math.isfinite(s):
                best = max(best, min(1.0, max(0.0, s)) * weights.get(name, 0.0))
        if not scores:
            best = max(best, d.confidence * weights.get(d.label, 0.0))
    return _finite_unit(best)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def typicality(embeddings: np.ndarray, k: int = 20) -> np.ndarray:
    """TypiClust typicality per row: ``1 / mean distance to the k nearest
    neighbours`` (unit-normalised rows), scaled so the most typical row is 1.

    Exact, in blocks of rows (memory O(block * n)); fine up to ~100k rows.
    """
    emb = unit_rows(embeddings)
    n = emb.shape[0]
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    k = max(1, min(k, n - 1))
    mean_d = np.empty(n)
    for start in range(0, n, 1024):
        block = emb[start : start + 1024]
        d2 = np.clip(2.0 - 2.0 * block @ emb.T, 0.0, 4.0)
        rows = np.arange(block.shape[0])
        d2[rows, start + rows] = np.inf  # not its own neighbour
        nearest = np.partition(d2, k - 1, axis=1)[:, :k]
        mean_d[start : start + block.shape[0]] = np.sqrt(nearest).mean(axis=1)
    typ = 1.0 / np.maximum(mean_d, 1e-9)
    return typ / typ.max()
