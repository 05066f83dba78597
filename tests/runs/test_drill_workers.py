"""The quickest scenario of bench/drill_workers.py (issue 15): Redis, the
broker, SIGKILLed mid-training and restarted, a run requested while it is down
(a throwaway redis-server the drill starts and stops itself)."""

import shutil

import pytest

from tests.drills import run_drill


@pytest.mark.slow
def test_killed_redis_drill():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    code, output = run_drill("drill_workers.py", "--only", "redis", timeout=300)
    assert code == 0, output
    assert "redis " in output and "failed: 0" in output
