"""No test may pass or fail by chance: the same cases in every process.

Python salts ``hash()`` of strings per process (PYTHONHASHSEED), and
schemathesis draws a fresh seed per run unless given one; either would make
two CI runs test different requests.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _schemathesis_run(tmp_path: Path, hash_seed: str) -> subprocess.Popen:
    """Start the schemathesis tests of the task operations (their bodies carry
    ids, which the id picking hashes) in a process with its own hash seed."""
    record = tmp_path / f"cases-{hash_seed}.jsonl"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env["ALWEB_RECORD_CASES"] = str(record)
    env.pop("ALWEB_VAR_DIR", None)  # each run gets its own fresh var dir
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/api/test_schemathesis.py",
            "-k",
            "never_answers_5xx and tasks",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _cases(tmp_path: Path, hash_seed: str) -> list:
    record = tmp_path / f"cases-{hash_seed}.jsonl"
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.mark.slow
def test_schemathesis_sends_the_same_requests_whatever_the_hash_seed(tmp_path):
    # Both at once (one core each): the exit status is the other test's
    # business (a 5xx); the cases sent are this one's.
    runs = [_schemathesis_run(tmp_path, seed) for seed in ("1", "2")]
    for run in runs:
        run.wait(timeout=300)
    first, second = _cases(tmp_path, "1"), _cases(tmp_path, "2")
    assert len(first) > 50
    assert first == second
