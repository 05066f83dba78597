"""The drill (bench/drill_runs.py), smaller: export + training + scoring + 5
annotators at once over HTTP on gunicorn and one real qcluster per queue, on
SQLite; zero "database is locked", every run terminal, everything stopped by
SIGINT. The fast scripted backend trains here; the bench runs real ultralytics."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_drill_export_training_scoring_and_annotators_at_once():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALWEB_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name in ("DATABASE_URL", "REDIS_URL"):  # the drill seeds a fresh SQLite
        env.pop(name, None)
    result = subprocess.run(
        [
            sys.executable,
            "bench/drill_runs.py",
            "--seconds",
            "20",
            "--annotators",
            "5",
            "--ground-truth",
            "24",
            "--pool",
            "60",
            "--backend",
            "tests.models_mgmt.fake_backend",
            "--settle",
            "40",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=85,
    )
    out = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, out
    assert "problems: 0" in out and "'database is locked' failures: 0" in out
    assert "processes left: 0" in out
    runs = next(line for line in out.splitlines() if line.startswith("runs:"))
    assert "export succeeded" in runs and "score succeeded" in runs
    assert "train succeeded 1" in runs
