"""The fast scripted backend (fake_backend.py) with predictions that differ per
image: confidence, class scores and embedding are a hash of the path, so that
strategies have something to rank. Train and validate are fake_backend's."""

import hashlib

from ml.types import Detection, ImagePrediction
from tests.models_mgmt.fake_backend import train, validate  # noqa: F401


def score_images(
    weights,
    image_paths,
    *,
    imgsz=320,
    conf=0.05,
    iou=0.7,
    device="cpu",
    batch=8,
    embed=True,
    flip=False,
):
    for path in image_paths:
        digest = hashlib.sha256(str(path).encode()).digest()
        c = 0.3 + 0.65 * digest[0] / 255
        scores = (c, (1 - c) * digest[1] / 255, (1 - c) * digest[2] / 255)
        det = Detection("circle", c, scores, (4.0, 4.0, 30.0, 30.0))
        emb = tuple(b / 255 - 0.5 for b in digest[3:19]) if embed else None
        yield ImagePrediction(str(path), 96, 72, (det,), emb)
