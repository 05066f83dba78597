"""The processes of bench/drill_annotators.py: annotators, reviewers, the manager
who reads the items list and the dashboard, the priority rewriter and the
trainer.

Every HTTP process is its own requests.Session with its own token and sends
its results back through a queue as one dict: latencies per endpoint (ms),
codes, problems, and what it was answered (claims, submits) for the checks
against the database afterwards. None of them touches Django but the rewriter
(and the trainer, for its settings).
"""

import os
import random
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path

LOCKED = "database is locked"
LABELS = ("circle", "rectangle", "triangle")
WIDTH, HEIGHT = 320, 240  # seed_large's image files


def boxes(rng: random.Random) -> list[dict]:
    """1-3 valid boxes inside a 320x240 image."""
    out = []
    for _ in range(rng.randint(1, 3)):
        w, h = rng.randint(8, 80), rng.randint(8, 60)
        x, y = rng.randint(0, WIDTH - w), rng.randint(0, HEIGHT - h)
        out.append({"kind": "box", "label": rng.choice(LABELS), "bbox": [x, y, w, h]})
    return out


class Recorder:
    """One process's requests: latency per endpoint, codes, problems."""

    def __init__(self, base: str, token: str | None = None, cookie: str | None = None):
        import requests

        self.requests = requests
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"
        if cookie:
            self.session.cookies.set("sessionid", cookie)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.codes: Counter = Counter()
        self.problems: list[str] = []

    def call(self, what: str, method: str, path: str, body=None):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            r = self.session.request(method, self.base + path, json=body, timeout=60)
        except self.requests.RequestException as exc:
            self.codes[(what, "no answer")] += 1
            self.problems.append(f"{what}: no answer ({exc.__class__.__name__})")
            return None
        self.latency[what].append((time.perf_counter() - t0) * 1000)
        # The client's own CPU for the call (requests building it, reading
        # the answer): part of the latency above, spent on the same cores.
        self.cpu[what].append((time.process_time() - c0) * 1000)
        self.codes[(what, r.status_code)] += 1
        if r.status_code >= 500 or LOCKED in r.text[:5000]:
            self.problems.append(f"{what} {path}: {r.status_code} {r.text[:200]}")
        return r

    def result(self, **extra) -> dict:
        return {
            "latency": dict(self.latency),
            "client_cpu": dict(self.cpu),
            "codes": self.codes,
            "problems": self.problems,
            **extra,
        }


def pause(seconds: float, deadline: float) -> None:
    if seconds > 0:
        time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))


def annotator(index, base, token, project_id, seconds, pause_s, start, out) -> None:
    """Claim, autosave a draft, submit with a client id; repeat until the end."""
    rec = Recorder(base, token)
    rng = random.Random(1000 + index)
    claims, submits, stale = [], [], 0
    start.wait()
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        r = rec.call(
            "claim-next",
            "POST",
            f"/api/v1/projects/{project_id}/tasks/next/",
            {"kind": "label"},
        )
        if r is None or r.status_code != 200:
            if r is not None and r.status_code not in (204,):
                rec.problems.append(f"claim answered {r.status_code}: {r.text[:200]}")
            pause(max(pause_s, 0.2), deadline)
            continue
        task = r.json()
        claims.append((task["id"], task["item"]["id"]))
        version = task.get("version", 0)
        pause(pause_s, deadline)
        path = f"/api/v1/tasks/{task['id']}/draft/"
        r = rec.call(
            "draft", "PUT", path, {"annotations": boxes(rng), "version": version}
        )
        if r is not None and r.status_code == 200:
            version = r.json()["version"]
        elif r is not None and r.status_code == 409:
            stale += 1
            version = r.json().get("version", version)
        elif r is not None:
            rec.problems.append(f"draft answered {r.status_code}: {r.text[:200]}")
        pause(pause_s, deadline)
        n += 1
        shapes = boxes(rng)
        body = {
            "annotations": shapes,
            "client_id": f"drill-{index}-{n}",
            "version": version,
        }
        path = f"/api/v1/tasks/{task['id']}/submit/"
        r = rec.call("submit", "POST", path, body)
        if r is not None and 200 <= r.status_code < 300:
            submits.append((task["id"], task["item"]["id"], shapes))
        elif r is not None and r.status_code == 409:
            stale += 1
        elif r is not None:
            rec.problems.append(f"submit answered {r.status_code}: {r.text[:200]}")
        pause(pause_s, deadline)
    out.put(rec.result(role="annotator", claims=claims, submits=submits, stale=stale))


def reviewer(index, base, token, project_id, seconds, pause_s, start, out) -> None:
    """Claim a review task and approve it as it is; repeat until the end."""
    rec = Recorder(base, token)
    approved = 0
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = rec.call(
            "review claim",
            "POST",
            f"/api/v1/projects/{project_id}/tasks/next/",
            {"kind": "review"},
        )
        if r is None or r.status_code != 200:
            if r is not None and r.status_code != 204:
                rec.problems.append(f"review claim answered {r.status_code}")
            pause(max(pause_s, 0.2), deadline)
            continue
        pause(pause_s, deadline)
        r = rec.call("approve", "POST", f"/api/v1/tasks/{r.json()['id']}/approve/", {})
        if r is not None and r.status_code == 200:
            approved += 1
        elif r is not None:
            rec.problems.append(f"approve answered {r.status_code}: {r.text[:200]}")
        pause(pause_s, deadline)
    out.put(rec.result(role="reviewer", approved=approved))


def manager(base, token, cookie, project_id, items, seconds, start, out) -> None:
    """The items list (API: filters and a deep page; the HTML item browser) and
    the project dashboard, one request every 0.5 s in turn."""
    rec = Recorder(base, token, cookie)
    deep = max(1, items // 50 // 2)  # the middle page of all items (50 per page)
    api = f"/api/v1/projects/{project_id}/items/"
    html = f"/projects/{project_id}/items/"
    views = [
        ("items list (API)", api),
        ("items list (API)", f"{api}?status=unlabeled"),
        ("items list (API)", f"{api}?status=done&split=train&ordering=created"),
        ("items list (API)", f"{api}?page={deep}"),
        ("items list (API)", f"{api}?status=review&ordering=priority&page=2"),
        ("item browser (HTML)", html),
        ("item browser (HTML)", f"{html}?status=done&split=train&page=3"),
        ("item browser (HTML)", f"{html}?page={max(1, items // 48 // 2)}"),
        ("dashboard (HTML)", f"/projects/{project_id}/"),
    ]
    start.wait()
    deadline = time.monotonic() + seconds
    k = 0
    while time.monotonic() < deadline:
        what, path = views[k % len(views)]
        if k % 3 == 2:  # the dashboard a third of the time
            what, path = views[-1]
        r = rec.call(what, "GET", path)
        if r is not None and r.status_code != 200:
            rec.problems.append(f"{path} answered {r.status_code}")
        k += 1
        pause(0.5, deadline)
    out.put(rec.result(role="manager"))


def trainer(folder, seconds, start, out) -> None:
    """A training run on the CPU beside the web: real ultralytics
    (ml.backends.ultralytics.train, yolov8n from scratch) on 64 generated
    320x320 images, one epoch after another, as long as the load lasts, at the
    CPU priority of a training-queue worker (runs.queues.priority_lower, which
    each worker calls as it starts). torch uses every core."""
    from ml.backends import ultralytics as backend
    from ml.config import validate_model_config
    from ml.datasets import write_yolo_dataset
    from ml.training import TrainingCancelled
    from runs.queues import priority_lower
    from tests.ml.synthetic import CLASSES, synthetic_ground_truth

    root = Path(folder)
    log = os.open(root / "training.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)  # ultralytics' progress goes to the log, not the report
    os.dup2(log, 2)
    backend.setup_offline(root / "yolo-config")
    images = synthetic_ground_truth(root / "src", n=64, size=320)
    data = write_yolo_dataset(images, CLASSES, root / "dataset")
    nice = priority_lower("training")
    config = validate_model_config({"epochs": 1, "imgsz": 320, "batch": 16})
    start.wait()
    deadline = time.monotonic() + seconds
    epochs, problems, k = [], [], 0
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            backend.train(
                data,
                "yolov8n.yaml",
                root / f"run{k}",
                config,
                cancel=lambda: time.monotonic() > deadline,
            )
        except TrainingCancelled:
            break
        except Exception as exc:  # a failed training is a finding: report it
            problems.append(f"training: {exc.__class__.__name__}: {exc}")
            break
        epochs.append((time.perf_counter() - t0) * 1000)
        shutil.rmtree(root / f"run{k}", ignore_errors=True)  # its weights
        k += 1
    out.put(
        {
            "role": "trainer",
            "latency": {"training epoch": epochs},
            "codes": Counter(),
            "problems": problems,
            "nice": nice,
        }
    )


def rewriter(project_id, seconds, pause_s, start, out) -> None:
    """A scoring run's priority rewrite (models_mgmt.services.scoring.
    prioritise_project, which writes through annotate.services.predictions) in
    a loop against the same database, `pause_s` seconds between rewrites, as
    long as the load lasts."""
    from django.db import connections

    from annotate.models import Project
    from models_mgmt.services import scoring
    from runs.queues import priority_lower

    connections.close_all()  # never the parent's connection
    nice = priority_lower("work")  # a scoring run's rewrite: the work queue
    project = Project.objects.get(pk=project_id)
    times, problems, written, writes = [], [], 0, []
    write = scoring.item_priorities_set

    def timed_write(**kwargs):  # the transaction that writes the priorities
        t0 = time.perf_counter()
        try:
            return write(**kwargs)
        finally:
            writes.append((time.perf_counter() - t0) * 1000)

    scoring.item_priorities_set = timed_write
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            written += scoring.prioritise_project(project=project)
        except Exception as exc:  # a failed rewrite is a finding: report it
            problems.append(f"prioritise_project: {exc.__class__.__name__}: {exc}")
            time.sleep(1)
            continue
        times.append((time.perf_counter() - t0) * 1000)
        pause(pause_s, deadline)
    connections.close_all()
    out.put(
        {
            "role": "rewriter",
            "latency": {"priority rewrite": times, "priority rewrite: write": writes},
            "codes": Counter(),
            "problems": problems,
            "written": written,
            "nice": nice,
        }
    )
