"""Run a bench drill (bench/drill_*.py) as a test does: a child process on a
fresh SQLite database of its own, none of this test run's settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_drill(script: str, *args: str, timeout: float) -> tuple[int, str]:
    """(exit code, stdout and the tail of stderr) of `bench/<script> args`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALWEB_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name in ("DATABASE_URL", "REDIS_URL"):  # the drill seeds a fresh SQLite
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr[-3000:]
