"""Real gunicorn on loopback for tests and drills: start it on a free port, wait
until it answers /healthz, stop it (SIGTERM, then SIGKILL) or kill it outright.

Used by tests/api/test_keepalive_gunicorn.py and bench/drill_sigkill.py (which
runs outside pytest: nothing here needs Django or a fixture)."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: list[str] = field(default_factory=list)


def _read_lines(stream, lines: queue.Queue, log: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        log.append(line)
        lines.put(line)


def start(env: dict, *, workers: int = 1, threads: int = 4) -> Server:
    """gunicorn (gthread) serving alweb.wsgi in a process group of its own, on a
    free loopback port, with `env` as its whole environment; returns once it
    answers /healthz (AssertionError with its log if it never does)."""
    cmd = [sys.executable, "-m", "gunicorn", "alweb.wsgi:application"]
    cmd += ["--bind", "127.0.0.1:0", "--worker-class", "gthread"]
    cmd += ["--workers", str(workers), "--threads", str(threads)]
    cmd += ["--timeout", "60", "--graceful-timeout", "5"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    log: list[str] = []
    threading.Thread(
        target=_read_lines, args=(proc.stderr, lines, log), daemon=True
    ).start()
    try:
        url = _wait_until_serving(proc, lines, log)
    except BaseException:
        kill(proc)
        raise
    return Server(proc=proc, url=url, log=log)


def _wait_until_serving(proc, lines: queue.Queue, log: list[str]) -> str:
    # Generous: on a loaded 2-core machine a booting worker (Django, DRF and
    # the schema imported) can take most of a minute to answer its first request.
    deadline = time.monotonic() + 120
    url = None
    while url is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("gunicorn did not start:\n" + "\n".join(log))
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
        if match:
            url = match.group(1)
    if healthz_until(url, deadline):
        return url
    raise AssertionError("gunicorn never answered /healthz:\n" + "\n".join(log))


def healthz_until(url: str, deadline: float, read_timeout: float = 5) -> bool:
    """Ask `url`/healthz until it answers 200 or `deadline` (monotonic) passes.
    A refused connection and a request that times out (a worker still booting
    under load) are both "not yet", never an error."""
    while time.monotonic() < deadline:
        try:
            answer = requests.get(url + "/healthz", timeout=read_timeout)
            if answer.status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (gunicorn finishes its requests), SIGKILL
    after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        kill(proc)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group (master and workers) and reap the master:
    a crash, with requests cut off wherever they are."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=15)
