"""Train and evaluate YOLO models with ultralytics, reporting progress."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml.backends.ultralytics.offline import build_base, require_offline
from ml.training import ProgressCallback, TrainingCancelled, TrainProgress, TrainResult

LOG_LIMIT = 200_000
_BOX_KEYS = {
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
    "metrics/mAP50(B)": "map50",
    "metrics/mAP50-95(B)": "map50_95",
}


def _as_base(base: str | Path):
    if isinstance(base, Path) or str(base).endswith(".pt"):
        return build_base(weights=Path(base))
    return build_base(architecture=str(base))


class _LogCapture(logging.Handler):
    """Keeps the ultralytics log of one run (the tail, when it grows too long)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.buffer = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.buffer.write(record.getMessage() + "\n")

    def text(self) -> str:
        return self.buffer.getvalue()[-LOG_LIMIT:]


def _box_metrics(raw: dict[str, Any]) -> dict[str, float]:
    out = {
        ours: float(raw[theirs]) for theirs, ours in _BOX_KEYS.items() if theirs in raw
    }
    for key, value in raw.items():
        if key.startswith("val/"):
            out[f"val_{key[4:]}"] = float(value)
    return out


def train(
    data_yaml: Path,
    base: str | Path,
    out_dir: Path,
    config: dict[str, Any],
    progress: ProgressCallback | None = None,
    cancel: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train ``base`` on ``data_yaml``; files go to ``<out_dir>/train``.

    ``base`` is an architecture file name (random init) or a .pt path.
    ``config`` is a validated model configuration (ml.config). ``progress``
    gets a TrainProgress after each epoch; ``cancel`` is polled after every
    batch, and when it returns True training stops cleanly and
    TrainingCancelled (holding the saved result) is raised. Errors from
    ultralytics propagate unchanged.
    """
    require_offline()
    model = _as_base(base)
    epochs = int(config["epochs"])
    state: dict[str, Any] = {"pending": None, "done": 0, "cancelled": False}
    t0 = time.monotonic()
    lines: list[str] = []

    def on_train_epoch_end(trainer) -> None:
        state["pending"] = trainer.epoch

    def on_fit_epoch_end(trainer) -> None:
        # Also fired once more by final_eval() on best.pt: that call has no
        # pending epoch and is not an epoch of its own.
        if state["pending"] != trainer.epoch:
            return
        state["pending"] = None
        state["done"] += 1
        done = state["done"]
        total = max(int(trainer.epochs), done)
        losses = {
            k.split("/", 1)[-1]: float(v)
            for k, v in trainer.label_loss_items(trainer.tloss, prefix="train").items()
        }
        metrics = _box_metrics(trainer.metrics or {})
        eta = (time.monotonic() - t0) / done * (total - done)
        report = TrainProgress(trainer.epoch + 1, total, losses, metrics, eta)
        lines.append(
            f"epoch {report.epoch}/{total} "
            + " ".join(f"{k}={v:.4f}" for k, v in {**losses, **metrics}.items())
        )
        if progress is not None:
            progress(report)
        if cancel is not None and cancel():
            state["cancelled"] = trainer.stop = True

    def on_train_batch_end(trainer) -> None:
        if cancel is not None and cancel():
            state["cancelled"] = trainer.stop = True

    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    model.add_callback("on_train_batch_end", on_train_batch_end)
    capture = _LogCapture()
    ul_logger = logging.getLogger("ultralytics")
    ul_logger.addHandler(capture)
    try:
        model.train(
            data=str(Path(data_yaml).resolve()),
            epochs=epochs,
            imgsz=config["imgsz"],
            batch=config["batch"],
            patience=config["patience"],
            optimizer=config.get("optimizer", "auto"),
            lr0=config["lr0"],
            device=config["device"],
            seed=config.get("seed", 0),
            project=str(Path(out_dir).resolve()),
            name="train",
            exist_ok=True,
            amp=False,  # the AMP check downloads a model
            workers=0,
            plots=False,
            verbose=False,
            # False: validate only after the last epoch (faster small runs).
            val=bool(config.get("val", True)),
        )
    finally:
        ul_logger.removeHandler(capture)
    trainer = model.trainer
    weights = trainer.best if trainer.best.exists() else trainer.last
    result = TrainResult(
        weights_path=Path(weights),
        metrics=_box_metrics(trainer.metrics or {}),
        epochs_run=state["done"],
        log="\n".join(lines) + "\n" + capture.text(),
    )
    if state["cancelled"]:
        raise TrainingCancelled(result)
    return result


@contextlib.contextmanager
def _no_plots():
    """Skip ultralytics' plot rendering while keeping plots=True's bookkeeping."""
    from ultralytics.models.yolo.detect import DetectionValidator
    from ultralytics.models.yolo.segment import SegmentationValidator
    from ultralytics.utils import metrics

    def noop(*args, **kwargs):
        return None

    with contextlib.ExitStack() as stack:
        for owner, name in (
            (metrics.ConfusionMatrix, "plot"),
            (metrics, "plot_pr_curve"),
            (metrics, "plot_mc_curve"),
            (DetectionValidator, "plot_val_samples"),
            (DetectionValidator, "plot_predictions"),
            (SegmentationValidator, "plot_predictions"),
        ):
            if hasattr(owner, name):
                stack.enter_context(attribute_swapped(owner, name, noop))
        yield


@contextlib.contextmanager
def attribute_swapped(owner: Any, name: str, value: Any):
    """Set ``owner.name`` to ``value`` for the block, then put back exactly what
    was there: the attribute of ``owner`` itself, or none when it was inherited
    (so the inherited one shows through again)."""
    had_own = name in vars(owner)
    previous = vars(owner)[name] if had_own else None
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had_own:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)


def validate(
    weights: Path,
    data_yaml: Path,
    split: str = "test",
    imgsz: int = 320,
    device: str = "cpu",
    batch: int = 16,
) -> dict[str, Any]:
    """Evaluate ``weights`` on one split of ``data_yaml``.

    Returns ``map50``, ``map50_95``, ``precision``, ``recall``,
    ``per_class`` ({name: {map50, map50_95, precision, recall, instances}},
    only classes present in the split), ``confusion_matrix`` (rows =
    predicted, columns = true, classes then background; ultralytics counts
    predictions above its val conf of 0.001) and ``confusion_labels``.
    Raises FileNotFoundError when the split has no images in data.yaml.
    """
    require_offline()
    model = build_base(weights=Path(weights))
    # The confusion matrix is only filled with plots=True; the plots go to a
    # throw-away dir, and their rendering (about 85 % of a small val) is skipped.
    with tempfile.TemporaryDirectory(prefix="alweb-val-") as tmp, _no_plots():
        m = model.val(
            data=str(Path(data_yaml).resolve()),
            split=split,
            imgsz=imgsz,
            device=device,
            batch=batch,
            workers=0,
            plots=True,
            project=tmp,
            name="val",
            exist_ok=True,
            verbose=False,
        )
    names = dict(m.names)
    per_class = {}
    for i, c in enumerate(m.box.ap_class_index):
        p, r, ap50, ap = m.box.class_result(i)
        per_class[names[int(c)]] = {
            "map50": float(ap50),
            "map50_95": float(ap),
            "precision": float(p),
            "recall": float(r),
            "instances": int(m.nt_per_class[int(c)]),
        }
    return {
        "map50": float(m.box.map50),
        "map50_95": float(m.box.map),
        "precision": float(m.box.mp),
        "recall": float(m.box.mr),
        "per_class": per_class,
        "confusion_matrix": [
            [int(v) for v in row] for row in m.confusion_matrix.matrix
        ],
        "confusion_labels": [names[i] for i in sorted(names)] + ["background"],
    }
