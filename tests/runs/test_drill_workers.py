"""One scenario of bench/drill_workers.py (issue 15): the training cluster
SIGKILLed mid-training, the run reaped within the reaper interval, its retry
succeeding once (real qclusters on SQLite, the scripted slow backend).

The Redis scenarios stay a bench (`bench/drill_workers.py --redis`, minutes
each); the broker's outage behaviour that made the Redis one flake in CI (a
cluster started during the outage exited for good) is tested in
tests/runs/test_broker_restart.py."""

import pytest

from tests.drills import run_drill


@pytest.mark.slow
def test_killed_training_worker_drill():
    code, output = run_drill("drill_workers.py", "--only", "train", timeout=300)
    assert code == 0, output
    assert "train " in output and "failed: 0" in output
