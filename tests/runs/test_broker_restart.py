"""A real `work` qcluster and a throwaway redis-server of this test's own (not
make test's shared one: it is stopped and restarted here), issue 15.

1. The cluster starts while Redis is down, then Redis starts: the cluster
   serves its queue. django-q2's own Redis broker raises from the sentinel's
   start-up ping, and the cluster exited for good ("failed to start").
2. Redis is SIGKILLed under the running cluster and restarted: the same pusher
   serves the queue again (no "reincarnated pusher": django-q2's pusher sleeps
   10 s, exits and is respawned).
(runs/broker.py; bench/drill_workers.py --redis runs the drills.)"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django_q.models import Task
from django_q.tasks import async_task

from tests.conftest import engine_missing
from tests.runs import qclusters

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_start(folder, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            shutil.which("redis-server"), "--bind", "127.0.0.1",
            "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--logfile", str(folder / "redis.log"),
        ]
    )  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1)
    qclusters.wait_for(lambda: _answers(client), 10, "redis-server to answer")
    return proc


def _answers(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


class _Queue:
    """Enough of a broker for async_task to push onto the work queue of this
    test's Redis (this process's own settings may name another)."""

    list_key = "django_q:work:q"

    def __init__(self, port: int):
        self.client = redis.Redis(port=port, socket_timeout=2)

    def enqueue(self, pack):
        return self.client.rpush(self.list_key, pack)


def _served(port: int, name: str, within: float) -> None:
    async_task("math.floor", 1.5, task_name=name, sync=False, broker=_Queue(port))
    qclusters.wait_for(
        lambda: Task.objects.filter(name=name, success=True).exists(),
        within,
        f"the work cluster to run {name}\n{qclusters.log_tail('work')}",
    )


def test_a_cluster_serves_its_queue_after_redis_was_down(tmp_path):
    if not shutil.which("redis-server"):
        engine_missing("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    procs = qclusters.start(["work"], REDIS_URL=f"redis://127.0.0.1:{port}/0")
    server = None
    try:
        qclusters.wait_for(
            lambda: "Connection refused" in qclusters.log_tail("work", 400),
            60,
            "the work cluster to find Redis down",
        )
        server = _redis_start(tmp_path, port)
        _served(port, "after-start", within=15)
        assert procs["work"].poll() is None

        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        time.sleep(1)
        server = _redis_start(tmp_path, port)
        _served(port, "after-restart", within=15)
        log = qclusters.log_tail("work", 400)
        assert "reincarnated pusher" not in log, log
        assert procs["work"].poll() is None
    finally:
        qclusters.stop(procs)
        if server is not None:
            server.kill()
            server.wait()
