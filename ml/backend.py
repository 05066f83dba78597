"""The interface every ML backend implements (ultralytics, and test doubles)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ml.training import ProgressCallback, TrainResult
from ml.types import ImagePrediction


@runtime_checkable
class Backend(Protocol):
    """Train, validate and score. Paths are local files; weights are ``.pt``.

    ``ml.backends.ultralytics`` (a module) implements it; so does the fast
    test double in ``tests/``.
    """

    def train(
        self,
        data_yaml: Path,
        base: str | Path,
        out_dir: Path,
        config: dict[str, Any],
        progress: ProgressCallback | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> TrainResult:
        """Train ``base`` (architecture name or .pt) on a YOLO dataset."""
        ...

    def validate(
        self,
        weights: Path,
        data_yaml: Path,
        split: str = "test",
        imgsz: int = 320,
        device: str = "cpu",
        batch: int = 16,
    ) -> dict[str, Any]:
        """Metrics of ``weights`` on one split: map50, map50_95, precision,
        recall, per_class, confusion_matrix, confusion_labels."""
        ...

    def score_images(
        self,
        weights: Path,
        image_paths: Sequence[str | Path],
        *,
        imgsz: int = 320,
        conf: float = 0.05,
        iou: float = 0.7,
        device: str = "cpu",
        batch: int = 8,
        embed: bool = True,
        flip: bool = False,
    ) -> Iterator[ImagePrediction]:
        """One prediction per path, in order, with per-box class-score vectors
        (and embeddings when ``embed``); ``flip`` predicts on the horizontally
        mirrored images (coordinates of the mirror image)."""
        ...
