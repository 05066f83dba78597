"""The SIGKILL drill (bench/drill_sigkill.py) as it is benched: 50 clients
autosave and submit against real gunicorn on loopback, gunicorn's process group
is SIGKILLed with requests in flight and started again; every save answered 200
is present and complete, retried submits apply once, racing saves from one
draft version give one winner and 409s. On a fresh SQLite database."""

import re

import pytest

from tests.drills import run_drill


@pytest.mark.slow
def test_saves_answered_2xx_survive_a_sigkill_of_the_web_server():
    code, out = run_drill("drill_sigkill.py", "--clients", "50", timeout=240)
    assert code == 0, out
    assert "problems: 0" in out and "integrity_check: ok" in out, out
    in_flight = re.search(r"requests in flight at SIGKILL: (\d+)", out)
    assert in_flight and int(in_flight.group(1)) > 0, out
    assert "race (4 saves from version 0 per task): 50 applied, 150 answered 409" in out
