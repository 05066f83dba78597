"""A fast stand-in for ml.backends.ultralytics, for service tests of triggers and
promotion. The real backend's path is tested in test_loop_real.py and
test_worker_process.py; this one only saves time.

Metrics are scripted: set `METRICS` before a run to choose how good the next
trained (or validated) model is.
"""

from pathlib import Path

from ml.training import TrainProgress, TrainResult
from ml.types import Detection, ImagePrediction

METRICS = {"map50": 0.5, "map50_95": 0.3, "precision": 0.5, "recall": 0.5}
# weights file content -> metrics it scores on validation (stored copies keep it)
SCORES: dict[bytes, dict] = {}
ON_SCORE = None  # in-process tests: called when a scoring stream starts
# When set, DETECT(weights content, image path) -> the image's detections: a
# scripted model per trained version (the error-bucket tests plant failures).
DETECT = None


def train(data_yaml, base, out_dir, config, progress=None, cancel=None):
    weights = Path(out_dir) / "fake.pt"
    content = b"\x80fake weights %d" % len(SCORES)
    weights.write_bytes(content)
    if progress is not None:
        progress(TrainProgress(1, 1, {"box_loss": 1.0}, {}, 0.0))
    result = TrainResult(
        weights_path=weights, metrics=dict(METRICS), epochs_run=1, log="fake"
    )
    SCORES[content] = dict(METRICS)
    return result


def validate(weights, data_yaml, split="test", imgsz=320, device="cpu", batch=16):
    metrics = SCORES.get(Path(weights).read_bytes(), METRICS)
    return {**metrics, "per_class": {}, "confusion_matrix": [], "confusion_labels": []}


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
    if ON_SCORE is not None:
        ON_SCORE()
    if DETECT is not None:
        content = Path(weights).read_bytes()
        for path in image_paths:
            dets = tuple(DETECT(content, str(path)))
            yield ImagePrediction(str(path), 96, 72, dets, None)
        return
    for path in image_paths:
        det = Detection("circle", 0.6, (0.6, 0.2, 0.1), (1.0, 1.0, 10.0, 10.0))
        yield ImagePrediction(str(path), 96, 72, (det,), (0.1, 0.2, 0.3))
