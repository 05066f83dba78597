"""Drill: export + training + scoring + N annotators at once on SQLite.

Seeds a fresh SQLite database (ground truth to train on, a pool to label), then
starts the app as `make run` does (scripts/run.sh: gunicorn and one qcluster per
queue: housekeeping, training, work) and, over HTTP with API tokens, for
`--seconds`: N annotators claim, autosave and submit label tasks, a reviewer
approves, an uploader adds images (each upload queues scoring), an exporter runs
background YOLO exports back to back (one is cancelled and retried), and one
training run (real ultralytics by default) trains, is evaluated and promoted
(which re-scores the pool). Then it waits until every run has ended, stops
run.sh with SIGINT (Ctrl-C), and prints figures.

Exits non-zero on any failure: a 5xx, a "database is locked" error anywhere
(responses, runs, django-q tasks, logs), a run not terminal or failed, a broken
export zip, a training not done, or processes left after SIGINT.

Usage: .venv/bin/python bench/drill_runs.py [--seconds 60] [--annotators 5]
       [--backend ml.backends.ultralytics] [--epochs 2]
"""

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import add_ground_truth, add_items, make_project, setup_django  # noqa: E402

LOCKED = "database is locked"


class Load:
    """HTTP clients sharing a stop flag and a record of every response."""

    def __init__(self, base: str):
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.codes: Counter = Counter()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.problems: list[str] = []

    def session(self, token: str):
        import requests

        s = requests.Session()
        s.headers["Authorization"] = f"Token {token}"
        return s

    def call(self, s, what: str, method: str, path: str, **kw):
        t0 = time.perf_counter()
        try:
            r = s.request(method, self.base + path, timeout=60, **kw)
        except Exception as exc:  # noqa: BLE001 - recorded as a failure
            with self.lock:
                self.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            return None
        with self.lock:
            self.latency[what].append(time.perf_counter() - t0)
            self.codes[(what, r.status_code)] += 1
            if r.status_code >= 500 or LOCKED in r.text[:2000]:
                self.problems.append(f"{what}: {r.status_code} {r.text[:300]}")
        return r


def annotator(load: Load, token: str, project_id: int, counts: Counter):
    s = load.session(token)
    while not load.stop.is_set():
        r = load.call(
            s,
            "label next",
            "POST",
            f"/api/v1/projects/{project_id}/tasks/next/",
            json={"kind": "label"},
        )
        if r is None or r.status_code != 200:
            time.sleep(0.5)
            continue
        task = r.json()
        w, h = task["item"]["width"], task["item"]["height"]
        shapes = [{"kind": "box", "label": "rectangle", "bbox": [2, 2, w / 3, h / 3]}]
        load.call(
            s,
            "draft",
            "PUT",
            f"/api/v1/tasks/{task['id']}/draft/",
            json={"annotations": shapes},
        )
        r = load.call(
            s,
            "submit",
            "POST",
            f"/api/v1/tasks/{task['id']}/submit/",
            json={"annotations": shapes},
        )
        if r is not None and r.status_code == 200:
            counts["submitted"] += 1


def reviewer(load: Load, token: str, project_id: int, counts: Counter):
    s = load.session(token)
    while not load.stop.is_set():
        r = load.call(
            s,
            "review next",
            "POST",
            f"/api/v1/projects/{project_id}/tasks/next/",
            json={"kind": "review"},
        )
        if r is None or r.status_code != 200:
            time.sleep(0.5)
            continue
        r = load.call(s, "approve", "POST", f"/api/v1/tasks/{r.json()['id']}/approve/")
        if r is not None and r.status_code == 200:
            counts["approved"] += 1


def uploader(load: Load, token: str, project_id: int, counts: Counter):
    from annotate.demo_data import synthetic_image

    s = load.session(token)
    seed = 50_000
    while not load.stop.wait(3.0):
        files = []
        for _ in range(4):
            files.append(
                ("files", (f"up_{seed}.png", synthetic_image(seed, 96, 96).png))
            )
            seed += 1
        r = load.call(
            s, "upload", "POST", f"/api/v1/projects/{project_id}/items/", files=files
        )
        if r is not None and r.status_code == 201:
            counts["uploaded"] += len(r.json()["created"])


def _wait_export(load: Load, s, status_url: str) -> dict:
    while True:
        r = load.call(s, "export status", "GET", status_url.split(load.base, 1)[-1])
        if r is None:
            return {"status": "unreachable"}
        body = r.json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.5)


def exporter(load: Load, token: str, project_id: int, counts: Counter):
    """YOLO exports back to back; the first is cancelled at once and retried."""
    s = load.session(token)
    first = True
    while not load.stop.is_set():
        r = load.call(
            s,
            "export",
            "GET",
            f"/api/v1/projects/{project_id}/export/",
            params={"format": "yolo"},
        )
        if r is None or r.status_code != 202:
            time.sleep(1)  # 409: the previous one is still running
            continue
        job = r.json()
        if first:
            first = False
            c = load.call(s, "cancel", "POST", f"/api/v1/runs/{job['job']}/cancel/")
            counts[f"cancel {c.status_code if c is not None else 'error'}"] += 1
            r = load.call(s, "retry", "POST", f"/api/v1/runs/{job['job']}/retry/")
            if r is None or r.status_code != 202:
                # The export had already ended: nothing to retry (409), go on.
                counts[f"retry {r.status_code if r is not None else 'error'}"] += 1
                continue
            counts["retry 202"] += 1
            job = {
                "job": r.json()["id"],
                "status_url": (
                    f"{load.base}/api/v1/projects/{project_id}/export/jobs/"
                    f"{r.json()['id']}/"
                ),
            }
        done = _wait_export(load, s, job["status_url"])
        if done["status"] != "succeeded":
            with load.lock:
                load.problems.append(f"export {job['job']}: {done}")
            continue
        z = load.call(s, "download", "GET", done["download_url"].split(load.base)[-1])
        try:
            archive = zipfile.ZipFile(io.BytesIO(z.content))
            assert archive.testzip() is None and "data.yaml" in archive.namelist()
            counts["exports"] += 1
            counts["exported images"] += sum(
                n.startswith("images/") for n in archive.namelist()
            )
        except Exception as exc:  # noqa: BLE001
            with load.lock:
                load.problems.append(f"export {job['job']} zip: {exc}")


def sampler(load: Load, gaps: dict, done: threading.Event):
    """Largest heartbeat age seen per kind of running run (every 0.5 s)."""
    from django.db import close_old_connections
    from django.utils import timezone

    from runs.models import Job

    while not done.wait(0.5):
        now = timezone.now()
        for kind, beat in Job.objects.filter(status="running").values_list(
            "kind", "heartbeat_at"
        ):
            if beat is not None:
                gaps[kind] = max(gaps.get(kind, 0.0), (now - beat).total_seconds())
        close_old_connections()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(var: Path, port: int, backend: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "ALWEB_VAR_DIR": str(var),
        "ALWEB_Q_SYNC": "0",
        "ALWEB_DEMO": "0",
        "ALWEB_PORT": str(port),
        "ALWEB_ML_BACKEND": backend,
        "ALWEB_EXPORT_SYNC_MAX_ITEMS": "5",  # every export runs in the background
        "ALWEB_LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "alweb.settings",
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "False",
    }
    log = open(var / "run.log", "wb")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # SIGINT below stands for Ctrl-C in a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_up(base: str, log: Path, timeout: float = 180) -> float:
    import requests

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        text = log.read_text(errors="replace") if log.exists() else ""
        queues = all(f"[{q}] running" in text for q in ("alweb", "training", "work"))
        try:
            up = requests.get(base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            up = False
        if up and queues:
            return time.monotonic() - t0
        time.sleep(0.5)
    raise SystemExit(f"the app did not come up in {timeout} s:\n{text[-3000:]}")


def stop_app(proc: subprocess.Popen) -> tuple[float, list[str]]:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True)
    var = os.environ["ALWEB_VAR_DIR"]
    left = [
        line
        for line in out.stdout.splitlines()
        if ("qcluster" in line or "gunicorn" in line) and _env_has(line, var)
    ]
    return time.monotonic() - t0, left


def _env_has(ps_line: str, var: str) -> bool:
    pid = ps_line.split()[0]
    try:
        return var.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def seed(args):
    from rest_framework.authtoken.models import Token

    from alweb.roles import Role
    from tests.factories import UserFactory, add_member

    project, owner = make_project(
        {
            "architecture": "yolov8n.yaml",
            "epochs": args.epochs,
            "imgsz": args.imgsz,
            "batch": 8,
            "conf": 0.01,
        },
        name="drill",
        split={"train": 0.7, "val": 0.15, "test": 0.15, "seed": 1},
    )
    add_ground_truth(project, owner, args.ground_truth, size=(96, 96))
    add_items(project, args.pool, start_seed=10_000, size=(96, 96))
    tokens = {"owner": Token.objects.create(user=owner).key}
    for i in range(args.annotators):
        user = add_member(project, Role.ANNOTATOR, UserFactory(username=f"ann{i}"))
        tokens[f"ann{i}"] = Token.objects.create(user=user).key
    user = add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    tokens["rev"] = Token.objects.create(user=user).key
    return project, tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--ground-truth", type=int, default=48)
    parser.add_argument("--pool", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--imgsz", type=int, default=64)
    parser.add_argument("--backend", default="ml.backends.ultralytics")
    parser.add_argument("--settle", type=float, default=300, help="max wait for runs")
    args = parser.parse_args()

    var = setup_django("drill", sync=False)
    from django_q.models import Task

    from models_mgmt.models import ModelVersion
    from runs.models import Job

    project, tokens = seed(args)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_app(var, port, args.backend)
    figures: dict[str, object] = {}
    try:
        figures["start-up (run.sh to healthz + 3 queues)"] = (
            f"{wait_up(base, var / 'run.log'):.1f} s"
        )
        load = Load(base)
        counts: Counter = Counter()
        owner = load.session(tokens["owner"])
        r = load.call(owner, "train", "POST", f"/api/v1/projects/{project.pk}/train/")
        assert r is not None and r.status_code == 202, r and r.text
        version_id = r.json()["model_version"]
        threads = [
            threading.Thread(
                target=annotator, args=(load, tokens[f"ann{i}"], project.pk, counts)
            )
            for i in range(args.annotators)
        ]
        threads += [
            threading.Thread(
                target=reviewer, args=(load, tokens["rev"], project.pk, counts)
            ),
            threading.Thread(
                target=uploader, args=(load, tokens["owner"], project.pk, counts)
            ),
            threading.Thread(
                target=exporter, args=(load, tokens["owner"], project.pk, counts)
            ),
        ]
        gaps: dict[str, float] = {}
        sampling = threading.Event()
        threads.append(threading.Thread(target=sampler, args=(load, gaps, sampling)))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        load.stop.set()
        for t in threads[:-1]:
            t.join(timeout=120)
        # Let every run end: the training (and the scoring its promotion starts).
        deadline = time.monotonic() + args.settle
        while (
            time.monotonic() < deadline
            and Job.objects.filter(status__in=["queued", "running"]).exists()
        ):
            time.sleep(1)
        sampling.set()
        figures["load phase"] = (
            f"{args.seconds:.0f} s; all runs ended after {time.monotonic() - t0:.0f} s"
        )
    finally:
        stop_s, left = stop_app(proc)
    figures["SIGINT to all stopped"] = f"{stop_s:.1f} s, processes left: {len(left)}"

    version = ModelVersion.objects.get(pk=version_id)
    jobs = list(Job.objects.order_by("id"))
    statuses = Counter((j.kind, j.status) for j in jobs)
    log = (var / "run.log").read_text(errors="replace")
    lock_errors = [
        ln for ln in log.splitlines() if LOCKED in ln and "retrying" not in ln
    ]
    retries = sum("database busy, retrying" in ln for ln in log.splitlines())
    failed_tasks = list(
        Task.objects.filter(success=False).values_list("name", "result")
    )
    problems = list(load.problems)
    problems += [f"log: {ln[:200]}" for ln in lock_errors]
    problems += [
        f"run {j.pk} {j.kind} {j.status}: {j.error[:200]}"
        for j in jobs
        if j.status in ("queued", "running", "failed") or LOCKED in j.error
    ]
    problems += [f"django-q task {n} failed: {str(r)[:200]}" for n, r in failed_tasks]
    if version.status != "done":
        problems.append(f"training {version.name}: {version.status} {version.error}")
    if left:
        problems.append(f"processes left after SIGINT: {left}")
    if not counts["exports"] or not any(k == "score" for k, _ in statuses):
        problems.append(f"no export or no scoring run: {dict(counts)}")

    print(
        f"== drill: {args.annotators} annotators + reviewer + uploads + exports "
        f"+ training ({args.backend}, {args.epochs} epochs) =="
    )
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} | {os.cpu_count()} cores | var {var}")
    for key, value in figures.items():
        print(f"{key}: {value}")
    print("activity:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for what, values in sorted(load.latency.items()):
        values = sorted(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        p50 = statistics.median(values)
        print(
            f"  {what:14s} n={len(values):5d} p50 {p50 * 1000:7.1f} ms"
            f"  p95 {p95 * 1000:7.1f} ms  max {values[-1] * 1000:7.1f} ms"
        )
    codes = Counter()
    for (_, code), n in load.codes.items():
        codes[code] += n
    print("HTTP codes:", dict(sorted(codes.items())))
    print("runs:", ", ".join(f"{k} {s} {n}" for (k, s), n in sorted(statuses.items())))
    print(
        f"training {version.name}: {version.status}, "
        f"epochs {version.epoch}/{version.epochs}, "
        f"map50 {version.metrics.get('map50')}, best {version.is_best}"
    )
    print(
        "largest heartbeat age seen while running:",
        ", ".join(f"{k} {v:.1f} s" for k, v in sorted(gaps.items())) or "-",
    )
    print(f"reaper runs: {Task.objects.filter(func='runs.tasks.reap').count()}")
    print(f"busy retries: {retries}; 'database is locked' failures: {len(lock_errors)}")
    print(f"problems: {len(problems)}")
    for problem in problems[:30]:
        print("  -", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
