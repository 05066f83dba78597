"""Shared fixtures for the ML core tests (no Django)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def yolo_offline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ultralytics set up offline in a private config dir, once per session."""
    from ml.backends.ultralytics import setup_offline

    # If another test package already imported ultralytics, keep its dir
    # (the settings path is fixed at import); otherwise use a fresh one.
    existing = os.environ.get("YOLO_CONFIG_DIR")
    if "ultralytics" in sys.modules and existing:
        config_dir = Path(existing)
    else:
        config_dir = tmp_path_factory.mktemp("yolo-config")
    setup_offline(config_dir)
    return config_dir
