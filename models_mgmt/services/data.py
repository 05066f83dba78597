"""Private working directories of training and evaluation runs."""

import shutil
from pathlib import Path

from django.conf import settings


def run_dir(kind: str, ident: int, *, fresh: bool = True) -> Path:
    """A private working directory for one run (emptied when `fresh`)."""
    path = Path(settings.VAR_DIR) / "runs" / f"{kind}-{ident}"
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
