"""The 20-annotator drill (bench/drill_annotators.py) at smoke size: 20 annotator
processes claim, autosave and submit against real gunicorn for 20 s while 3
reviewers approve, prioritise_project rewrites priorities and the manager reads
the items list and the dashboard. No duplicate claim, no lost or partial
submit, no 5xx, no "database is locked". On a fresh SQLite database."""

import re

import pytest

from tests.drills import run_drill


@pytest.mark.slow
def test_twenty_annotators_reviewers_and_a_priority_rewrite_lose_nothing():
    code, out = run_drill(
        "drill_annotators.py", "--items", "2000", "--seconds", "20", timeout=240
    )
    assert code == 0, out
    assert "problems: 0" in out, out
    claimed = re.search(r"label tasks claimed: (\d+)", out)
    checked = re.search(r"submits answered 2xx, checked: (\d+)", out)
    assert claimed and int(claimed.group(1)) >= 20, out
    assert checked and int(checked.group(1)) >= 20, out
    approvals = re.search(r"approvals: (\d+); priorities written: (\d+)", out)
    assert approvals and int(approvals.group(1)) > 0, out
    assert int(approvals.group(2)) > 0, out
    codes = re.search(r"HTTP codes: \{(.*)\}", out).group(1)
    assert set(re.findall(r"(\w[\w ]*): \d+", codes)) <= {"200", "204", "409"}, out
