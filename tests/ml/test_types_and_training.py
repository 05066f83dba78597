import subprocess
import sys
from pathlib import Path

from ml.training import TrainingCancelled, TrainProgress, TrainResult
from ml.types import BoxShape, Detection, PolygonShape

ROOT = Path(__file__).resolve().parents[2]


def test_detection_becomes_a_polygon_only_when_it_has_points():
    box = Detection("car", 0.9, (0.9,), (1, 2, 3, 4))
    assert box.to_shape() == BoxShape("car", (1, 2, 3, 4))
    seg = Detection("car", 0.9, (0.9,), (0, 0, 2, 2), ((0, 0), (2, 0), (2, 2)))
    assert seg.to_shape() == PolygonShape("car", ((0, 0), (2, 0), (2, 2)))
    assert seg.to_shape().bounds() == (0, 0, 2, 2)


def test_train_progress_fraction_and_cancellation_carry_state():
    assert TrainProgress(3, 4).fraction == 0.75
    assert TrainProgress(0, 0).fraction == 0.0
    result = TrainResult(Path("w.pt"), {}, 1, "")
    assert TrainingCancelled(result).result is result


def test_importing_the_ml_core_loads_neither_torch_nor_django():
    code = (
        "import sys, ml.types, ml.geometry, ml.uncertainty, ml.selection, ml.splits, "
        "ml.config, ml.comparison, ml.datasets, ml.training, ml.embeddings, "
        "ml.backends.ultralytics\n"
        "bad = [m for m in ('torch', 'ultralytics', 'django') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
