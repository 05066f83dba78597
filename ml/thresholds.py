"""The error-analysis thresholds a project may set (issue 14): their defaults,
ranges and meaning, and the check of a partial update. Framework-free: the
pipeline resource (models_mgmt.serializers) and the settings page use it;
annotate stores the OOD ones (Pipeline), models_mgmt the rest (TrainingSettings).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    name: str  # the key in the pipeline resource's "thresholds" object
    default: float
    help: str
    low_open: bool = False  # True: the value must be above 0, not at least 0


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        "label_error_min_score",
        0.25,
        "a label-error candidate (the model's confidence times the disagreement) "
        "is flagged for re-review from this score on",
    ),
    Threshold(
        "ood",
        0.95,
        "an item whose OOD score (the share of training items nearer to the "
        "training set than it is) is above this counts as out of distribution",
    ),
    Threshold(
        "drift_warn_share",
        0.2,
        "the drift panel warns when a week's share of out-of-distribution items "
        "is above this",
    ),
    Threshold(
        "error_match_iou",
        0.5,
        "error buckets: a prediction matches a shape from this IoU on",
        low_open=True,
    ),
    Threshold(
        "error_background_iou",
        0.1,
        "error buckets: below this IoU with every shape a prediction is a "
        "background false positive; from it up to the match IoU, a localisation "
        "error",
    ),
    Threshold(
        "error_min_confidence",
        0.25,
        "error buckets: predictions below this confidence are left out",
    ),
)
BY_NAME = {t.name: t for t in THRESHOLDS}
DEFAULTS: dict[str, float] = {t.name: t.default for t in THRESHOLDS}


def thresholds_clean(data: object, current: Mapping[str, float]) -> dict[str, float]:
    """Check a partial update of the thresholds (`data`: {name: number}) against
    the `current` values (names left out keep them). Returns the changed names'
    values. Raises ValueError("name: reason") for the first bad one: not an
    object, an unknown name, not a number from 0 to 1, or a background IoU not
    below the match IoU."""
    if not isinstance(data, Mapping):
        raise ValueError("must be an object of " + ", ".join(BY_NAME))
    unknown = sorted(str(k) for k in data if k not in BY_NAME)
    if unknown:
        raise ValueError(
            f"{unknown[0]}: unknown threshold (known: {', '.join(BY_NAME)})"
        )
    out: dict[str, float] = {}
    for name, value in data.items():
        spec = BY_NAME[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0.0 <= value <= 1.0
            or (spec.low_open and value == 0)
        ):
            low = "above 0" if spec.low_open else "from 0"
            raise ValueError(f"{name}: must be a number {low} to 1")
        out[name] = float(value)
    merged = {**DEFAULTS, **current, **out}
    if merged["error_background_iou"] >= merged["error_match_iou"]:
        raise ValueError(
            "error_background_iou: must be below error_match_iou "
            f"({merged['error_match_iou']:g})"
        )
    return out
