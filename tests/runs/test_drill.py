"""The drill (bench/drill_runs.py), smaller: export + training + scoring + 5
annotators at once over HTTP on gunicorn and one real qcluster per queue, on
SQLite; zero "database is locked", every run terminal, everything stopped by
SIGINT. The fast scripted backend trains here; the bench runs real ultralytics."""

import pytest

from tests.drills import run_drill


@pytest.mark.slow
def test_drill_export_training_scoring_and_annotators_at_once():
    code, out = run_drill(
        "drill_runs.py",
        *("--seconds", "20", "--annotators", "5", "--ground-truth", "24"),
        *("--pool", "60", "--backend", "tests.models_mgmt.fake_backend"),
        *("--settle", "40"),
        timeout=85,
    )
    assert code == 0, out
    assert "problems: 0" in out and "'database is locked' failures: 0" in out
    assert "processes left: 0" in out
    runs = next(line for line in out.splitlines() if line.startswith("runs:"))
    assert "export succeeded" in runs and "score succeeded" in runs
    assert "train succeeded 1" in runs
