"""Real `manage.py qcluster` processes, one per queue, on the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("alweb", "training", "work")  # housekeeping (default), training, work


def database_env() -> dict[str, str]:
    """The environment that points a subprocess (qcluster, gunicorn) at this test
    run's database: the SQLite file, or DATABASE_URL naming pytest-django's test
    database on the same PostgreSQL server."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return {"ALWEB_SQLITE_PATH": str(name)}
    parts = urlsplit(os.environ["DATABASE_URL"])
    return {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}


def start(queues=QUEUES, **env) -> dict[str, subprocess.Popen]:
    """Start one qcluster per queue name (Q_CLUSTER_NAME), logs in VAR_DIR."""
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "alweb.settings_test",
        "ALWEB_Q_SYNC": "0",
        "ALWEB_VAR_DIR": str(settings.VAR_DIR),
        **database_env(),
        **env,
    }
    procs = {}
    for name in queues:
        log = open(Path(settings.VAR_DIR) / f"qcluster-{name}.log", "ab")  # noqa: SIM115
        procs[name] = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env={**base, "Q_CLUSTER_NAME": name},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
    return procs


def stop(procs: dict[str, subprocess.Popen]) -> None:
    """Stop every cluster, hard after 20 s. SIGTERM goes to the qcluster process
    only: its sentinel then stops the workers (a SIGTERM to the whole process
    group leaves the qcluster waiting forever); SIGKILL goes to the group."""
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        try:  # workers left behind by a killed sentinel
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(predicate, timeout: float, what: str, every: float = 0.25):
    """Poll `predicate` until it returns something true; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def log_tail(name: str, lines: int = 40) -> str:
    path = Path(settings.VAR_DIR) / f"qcluster-{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
