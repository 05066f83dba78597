"""Framework-free types for training runs: progress reports and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class TrainProgress:
    """One finished epoch (1-based ``epoch`` of ``epochs``).

    ``losses`` are the mean training losses of the epoch (e.g. ``box_loss``),
    ``metrics`` the validation metrics after it in the keys of the metric dict
    (``map50``, ``map50_95``, ``precision``, ``recall``) plus validation
    losses as ``val_<name>``; ``eta_seconds`` is None until an epoch has been
    timed.
    """

    epoch: int
    epochs: int
    losses: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    eta_seconds: float | None = None

    @property
    def fraction(self) -> float:
        """Share of the run done, in [0, 1]."""
        return min(1.0, max(0.0, self.epoch / self.epochs)) if self.epochs else 0.0


class ProgressCallback(Protocol):
    """Receives a report after every epoch; must be quick and must not raise."""

    def __call__(self, progress: TrainProgress) -> None: ...


@dataclass(frozen=True)
class TrainResult:
    """A finished run: the weights to keep, final validation metrics, a text log."""

    weights_path: Path
    metrics: dict[str, Any]
    epochs_run: int
    log: str


class TrainingCancelled(Exception):
    """Raised by a backend's ``train`` after it stopped because ``cancel()`` said so.

    ``result`` holds what was saved before stopping (its weights may be used
    or discarded by the caller).
    """

    def __init__(self, result: TrainResult | None = None) -> None:
        super().__init__("training was cancelled")
        self.result = result
