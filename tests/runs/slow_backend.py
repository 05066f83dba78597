"""A training backend that takes as long as a test wants, for cancel, retry and
queue-starvation tests (in-process and in real qcluster workers).

`train` keeps "training" while the file `<ALWEB_VAR_DIR>/hold-training` exists
(at most 120 s), polling `cancel()` like the real backend does after each batch,
and then finishes like tests/models_mgmt/fake_backend.py. It writes
`training-started` when it begins and `training-stopped` (with "cancelled" or
"finished") when it ends, so a test in another process can follow it.
`score_images` likewise keeps "scoring" (before its first prediction) while
`<ALWEB_VAR_DIR>/hold-scoring` exists (at most 120 s), writing `scoring-started`
first, in a "work" cluster's worker only (Q_CLUSTER_NAME): a training's own
evaluation on the training cluster is not held. `validate` is the fake backend's.
"""

import os
import time
from pathlib import Path

from ml.training import TrainingCancelled, TrainProgress
from tests.models_mgmt import fake_backend
from tests.models_mgmt.fake_backend import validate  # noqa: F401

ON_START = None  # in-process tests: called once training has begun


def _var() -> Path:
    return Path(os.environ["ALWEB_VAR_DIR"])


def hold_file() -> Path:
    return _var() / "hold-training"


def train(data_yaml, base, out_dir, config, progress=None, cancel=None):
    (_var() / "training-started").write_text(str(time.time()))
    if ON_START is not None:
        ON_START()
    deadline = time.monotonic() + 120
    step = 0
    while hold_file().exists() and time.monotonic() < deadline:
        step += 1
        if progress is not None and step % 10 == 0:
            progress(TrainProgress(1, 2, {"box_loss": 1.0 / step}, {}, 1.0))
        if cancel is not None and cancel():
            (_var() / "training-stopped").write_text(f"cancelled {time.time()}")
            raise TrainingCancelled()
        time.sleep(0.05)
    if cancel is not None and cancel():
        (_var() / "training-stopped").write_text(f"cancelled {time.time()}")
        raise TrainingCancelled()
    result = fake_backend.train(data_yaml, base, out_dir, config, progress, cancel)
    (_var() / "training-stopped").write_text(f"finished {time.time()}")
    return result


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
    kwargs = dict(imgsz=imgsz, conf=conf, iou=iou, device=device, batch=batch)
    kwargs.update(embed=embed, flip=flip)
    if os.environ.get("Q_CLUSTER_NAME") != "work":
        yield from fake_backend.score_images(weights, image_paths, **kwargs)
        return
    (_var() / "scoring-started").write_text(str(time.time()))
    deadline = time.monotonic() + 120
    while (_var() / "hold-scoring").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield from fake_backend.score_images(weights, image_paths, **kwargs)
