"""Train, validate, predict and embed with ultralytics YOLO, fully offline.

The only package of ``ml`` that touches torch/ultralytics, and only inside
functions, so importing it costs nothing in the web process. Call
:func:`setup_offline` once, before anything imports ultralytics; every other
function refuses to run without it.
"""

from ml.backends.ultralytics.inference import embed, predict, score_images
from ml.backends.ultralytics.offline import (
    FONT_NAMES,
    INTEGRATION_KEYS,
    build_base,
    setup_offline,
)
from ml.backends.ultralytics.segment import (
    SAM_WEIGHT_NAMES,
    sam_weights_name_ok,
    segment_point,
)
from ml.backends.ultralytics.train import train, validate

__all__ = [
    "FONT_NAMES",
    "INTEGRATION_KEYS",
    "SAM_WEIGHT_NAMES",
    "build_base",
    "embed",
    "predict",
    "sam_weights_name_ok",
    "score_images",
    "segment_point",
    "setup_offline",
    "train",
    "validate",
]
