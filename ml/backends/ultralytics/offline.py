"""Keep ultralytics offline and build base models without downloading anything."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

INTEGRATION_KEYS = (
    "clearml",
    "comet",
    "dvc",
    "mlflow",
    "raytune",
    "tensorboard",
    "wandb",
)
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def setup_offline(config_dir: Path) -> Path:
    """Make ultralytics run with zero network access; return its settings dir.

    Sets ``YOLO_OFFLINE``, ``YOLO_AUTOINSTALL=False`` and ``YOLO_CONFIG_DIR``,
    copies matplotlib's DejaVuSans.ttf to ``<config_dir>/Ultralytics/Arial.ttf``
    and ``Arial.Unicode.ttf`` (ultralytics downloads those fonts on every
    train/val otherwise, ignoring YOLO_OFFLINE), then turns off ``sync`` and
    every integration in ultralytics' settings and points its runs, weights
    and datasets dirs inside ``config_dir``. Idempotent. Raises RuntimeError
    when ultralytics was already imported with another config dir (its
    settings path is fixed at import).
    """
    config_dir = Path(config_dir).resolve()
    user_dir = config_dir / "Ultralytics"
    loaded = sys.modules.get("ultralytics.utils")
    if loaded is not None and Path(loaded.USER_CONFIG_DIR).resolve() != user_dir:
        raise RuntimeError("setup_offline() must run before ultralytics is imported")
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    user_dir.mkdir(parents=True, exist_ok=True)
    font = _dejavu_font()
    for name in FONT_NAMES:
        if not (user_dir / name).exists():
            shutil.copyfile(font, user_dir / name)

    from ultralytics import settings

    wanted: dict[str, Any] = {k: False for k in ("sync", *INTEGRATION_KEYS)}
    wanted.update(
        runs_dir=str(config_dir / "runs"),
        weights_dir=str(config_dir / "weights"),
        datasets_dir=str(config_dir / "datasets"),
    )
    changes = {k: v for k, v in wanted.items() if k in settings and settings[k] != v}
    if changes:
        settings.update(changes)
    return user_dir


def _dejavu_font() -> Path:
    # Located without importing matplotlib (slow); it is an ultralytics dependency.
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib is required for its DejaVuSans.ttf font")
    font = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not font.exists():
        raise RuntimeError(f"font not found: {font}")
    return font


def require_offline() -> None:
    if os.environ.get("YOLO_OFFLINE") != "1" or "YOLO_CONFIG_DIR" not in os.environ:
        raise RuntimeError("call ml.backends.ultralytics.setup_offline() first")


def build_base(
    architecture: str | None = None,
    weights: Path | None = None,
    task: str | None = None,
):
    """A ``YOLO`` model from an architecture file (random init) or a .pt on disk.

    Exactly one of ``architecture`` (e.g. ``yolov8n.yaml``, bundled with
    ultralytics) and ``weights`` must be given. An official weights *name*
    is never accepted, because ultralytics would download it. Raises
    ValueError for bad arguments or a task mismatch, FileNotFoundError for a
    missing file. Loading a .pt unpickles it: only trusted users may supply it.
    """
    require_offline()
    if (architecture is None) == (weights is None):
        raise ValueError("give exactly one of architecture and weights")
    if architecture is not None:
        if Path(architecture).suffix not in (".yaml", ".yml"):
            raise ValueError(f"architecture must be a .yaml file, got {architecture!r}")
        source = str(architecture)
    else:
        path = Path(weights)  # type: ignore[arg-type]
        if path.suffix != ".pt":
            raise ValueError(f"weights must be a .pt file, got {path.name!r}")
        if not path.is_file():
            raise FileNotFoundError(f"weights file not found: {path}")
        source = str(path.resolve())
    from ultralytics import YOLO

    # Not YOLO(source, task=...): that overrides the task instead of checking it.
    model = YOLO(source)
    if task and model.task != task:
        raise ValueError(f"{source} is a {model.task} model, not {task}")
    return model
