"""Private working directories of training and evaluation runs."""

import shutil
from pathlib import Path

from django.conf import settings

RUN_DIR_KINDS = ("model", "eval")


def run_dir_path(kind: str, ident: int) -> Path:
    """Where the working directory of run `kind` (RUN_DIR_KINDS) for model
    version `ident` lives (var/runs/<kind>-<id>)."""
    return Path(settings.VAR_DIR) / "runs" / f"{kind}-{ident}"


def run_dir(kind: str, ident: int, *, fresh: bool = True) -> Path:
    """A private working directory for one run (emptied when `fresh`)."""
    path = run_dir_path(kind, ident)
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
