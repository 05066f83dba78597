"""A training backend that takes as long as a test wants, for cancel, retry and
queue-starvation tests (in-process and in real qcluster workers).

`train` keeps "training" while the file `<ALWEB_VAR_DIR>/hold-training` exists
(at most 120 s), polling `cancel()` like the real backend does after each batch,
and then finishes like tests/models_mgmt/fake_backend.py. It writes
`training-started` when it begins and `training-stopped` (with "cancelled" or
"finished") when it ends, so a test in another process can follow it.
`validate` and `score_images` are the fake backend's.
"""

import os
import time
from pathlib import Path

from ml.training import TrainingCancelled, TrainProgress
from tests.models_mgmt import fake_backend
from tests.models_mgmt.fake_backend import score_images, validate  # noqa: F401

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
