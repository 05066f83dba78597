"""The harness of bench/drill_workers.py: a drill's database, clusters and
API client, the hold files of the slow backend, and a throwaway redis-server."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

STALE = 10  # ALWEB_HEARTBEAT_STALE_SECONDS
REAPER_EVERY = 60  # the reaper schedule (minutes=1)
LIMIT = REAPER_EVERY + STALE + 30  # a dead run must be terminal by then
SCENARIOS = ("train", "score", "export", "sigterm", "worker", "housekeeping")
TERMINAL = ("succeeded", "failed", "cancelled")


# --- child side: one scenario ---------------------------------------------------


class Drill:
    def __init__(self, var: Path):
        self.var = var
        self.procs: dict[str, subprocess.Popen] = {}
        self.checks: list[tuple[str, bool]] = []
        self.notes: list[str] = []

    def check(self, what: str, ok: bool) -> bool:
        self.checks.append((what, bool(ok)))
        return bool(ok)

    def start(self, *names: str) -> None:
        for name in names:
            log = open(self.var / f"qcluster-{name}.log", "ab")  # noqa: SIM115
            self.procs[name] = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=REPO,
                env={**os.environ, "Q_CLUSTER_NAME": name},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()

    def log(self, name: str) -> str:
        path = self.var / f"qcluster-{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def running(self, name: str) -> bool:
        """The cluster's sentinel is past its start-up (it logged "running.")."""
        return "] running." in self.log(name)

    def kill(self, name: str) -> None:
        """SIGKILL the cluster's whole process group (sentinel and workers)."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def term(self, name: str, wait: float = 30) -> float:
        """SIGTERM to the qcluster process (Ctrl-C); SIGKILL the group after
        `wait` s. Seconds it took to stop."""
        proc = self.procs.pop(name)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.notes.append(f"{name} cluster ignored SIGTERM for {wait} s: killed")
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return time.monotonic() - t0

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.term(name, wait=20)

    def wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")

    def terminal(self, job_id: int, timeout: float = LIMIT) -> tuple[object, float]:
        from runs.models import Job

        t0 = time.monotonic()
        job = self.wait(
            lambda: Job.objects.filter(pk=job_id, status__in=TERMINAL).first(),
            timeout,
            f"run {job_id} to end",
        )
        return job, time.monotonic() - t0

    def ui_truth(self, client, job) -> None:
        body = client.get(f"/api/v1/runs/{job.pk}/").json()
        self.check(
            f"API shows run {job.pk} {job.status}",
            body["status"] == job.status and body["error"] == job.error,
        )


def hold(var: Path, what: str, on: bool) -> None:
    path = var / f"hold-{what}"
    if on:
        path.write_text("hold")
    else:
        path.unlink(missing_ok=True)


def drill_project(name: str, gt: int = 12, pool: int = 0):
    from _common import add_ground_truth, add_items, make_project

    from models_mgmt.services.pipeline import pipeline_update

    project, owner = make_project(
        {"architecture": "yolov8n.yaml", "epochs": 1, "imgsz": 64, "batch": 8},
        name=name,
        split={"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1},
    )
    pipeline_update(
        project=project,
        actor=owner,
        data={"comparison_config": {"min_score": 0.0, "min_test_items": 1}},
    )
    add_ground_truth(project, owner, gt, size=(96, 96))
    items = add_items(project, pool, start_seed=10_000, size=(96, 96))
    return project, owner, items


def api_client(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    return client


def train_once(d: Drill, client, project) -> tuple[int, int]:
    from runs.models import Job

    r = client.post(f"/api/v1/projects/{project.pk}/train/")
    assert r.status_code == 202, r.content
    version = r.json()["model_version"]
    return version, Job.objects.get(model_version_id=version, kind="train").pk


def killed_then_retried(d: Drill, client, job_id: int, cluster: str | None) -> float:
    """After a kill: the run reaped (failed, heartbeat error) within LIMIT, the
    API agreeing; then restart `cluster` and retry it: the retry succeeds.
    Returns the time to the terminal state after the kill."""
    job, took = d.terminal(job_id)
    d.check(
        f"killed run failed by the reaper in {took:.0f} s <= {LIMIT} s",
        job.status == "failed" and "heartbeat" in job.error,
    )
    d.ui_truth(client, job)
    if cluster is not None:  # None: the cluster was not killed, only a worker
        d.start(cluster)
    r = client.post(f"/api/v1/runs/{job_id}/retry/")
    d.check("retry answered 202", r.status_code == 202)
    retry, _ = d.terminal(r.json()["id"], timeout=120)
    d.check(f"retry run {retry.pk} succeeded", retry.status == "succeeded")
    d.ui_truth(client, retry)
    d.retry = retry
    return took


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_start(folder: Path, port: int) -> None:
    """redis-server on loopback as scripts/test-services.sh starts it."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            shutil.which("redis-server") or "redis-server",
            "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--daemonize", "yes", "--dir", str(folder),
            "--pidfile", str(folder / "redis.pid"),
            "--logfile", str(folder / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        ping = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
        )
        if "PONG" in ping.stdout:
            return
        time.sleep(0.1)
    raise SystemExit("redis-server did not answer")


def redis_stop(folder: Path, *, hard: bool = False) -> None:
    pidfile = folder / "redis.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip() or 0)
    try:
        os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
    except ProcessLookupError:
        pass
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
