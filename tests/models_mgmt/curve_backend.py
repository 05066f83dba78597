"""The fake backend, reporting three epochs with losses and validation metrics
(the training curves a real run stores epoch by epoch)."""

from ml.training import TrainProgress
from tests.models_mgmt import fake_backend
from tests.models_mgmt.fake_backend import score_images, validate  # noqa: F401


def train(data_yaml, base, out_dir, config, progress=None, cancel=None):
    for epoch in (1, 2, 3):
        if progress is not None:
            progress(
                TrainProgress(
                    epoch,
                    3,
                    {"box_loss": 2.0 / epoch, "cls_loss": 1.0 / epoch},
                    {"map50": 0.2 * epoch, "map50_95": 0.1 * epoch},
                    1.0,
                )
            )
    return fake_backend.train(data_yaml, base, out_dir, config)
