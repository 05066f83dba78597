"""Drill: SIGKILL the web server while saves are in flight; every save that was
answered 2xx is present and complete after the restart.

Seeds a fresh SQLite database (a project, 2 items per client, one annotator per
client with an API token), starts real gunicorn on loopback (tests/gunicorn.py;
2 workers x 4 threads) and lets every client claim a task. Then
all clients at once autosave `--drafts` times (each save sends the draft version
it last saw, `--shapes` boxes unique to the client and the step) and submit with
a client id. Once `--kill-after` answers have come back, SIGKILL goes to
gunicorn's whole process group (master and workers) with requests in flight.
gunicorn is started again on the same database, and the drill checks:

- every draft save answered 200 with version v: the task's draft is at version
  >= v and holds exactly the shapes of the save at that version (never a mix);
- every submit answered 200: the task is submitted and the item in review with
  exactly the submitted shapes, one label_submitted event; an unanswered submit
  is either fully applied like that or not at all (no annotations, item still
  being labelled);
- every client retries its submit with the same client id: 200 for all, each
  applied once (one event, exactly its shapes);
- versioned drafts under a race: each client claims a new item and sends 4
  saves from version 0 at once: exactly one is applied, the others get 409
  with the current version, the draft is the winner's;
- no 5xx, no "database is locked", and SQLite's integrity_check says ok.

Exits non-zero on any failure. Leaves out: power loss (SQLite synchronous=NORMAL
survives a process crash, not an OS crash), PostgreSQL, and the browser.

Usage: .venv/bin/python bench/drill_sigkill.py [--clients 50] [--drafts 3]
       [--shapes 20] [--kill-after N]
"""

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import add_items, setup_django  # noqa: E402

LOCKED = "database is locked"
SIZE = 96  # the items' width and height
RACERS = 4  # saves from the same version at once, per client, in the race


def shapes_for(client: int, step: int, n: int) -> list[dict]:
    """`n` boxes unique to (client, step): a partial or mixed save shows."""
    labels = ("circle", "rectangle", "triangle")
    return [
        {
            "kind": "box",
            "label": labels[k % 3],
            "bbox": [k * 4 % 80, step * 2 % 40, 8, 4 + client % 40],
        }
        for k in range(n)
    ]


def comparable(shapes) -> list[tuple]:
    return [(s["kind"], s["label"], list(s["bbox"])) for s in shapes]


@dataclass
class Client:
    index: int
    token: str
    client_id: str
    task: int | None = None
    version: int = 0
    answered_version: int = 0  # the highest draft version answered 200
    submit_answered: bool = False
    unanswered: list[str] = field(default_factory=list)


class Load:
    """Every request of every client: codes, latencies, requests in flight, and
    an event once `kill_after` answers have come back."""

    def __init__(self, kill_after: int):
        import requests

        self.requests = requests
        self.base = ""
        self.lock = threading.Lock()
        self.codes: Counter = Counter()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.problems: list[str] = []
        self.in_flight = 0
        self.answers = 0
        self.kill_after = kill_after
        self.enough = threading.Event()

    def call(self, session, what: str, method: str, path: str, body=None):
        """The response, or None when no answer came (the server died)."""
        with self.lock:
            self.in_flight += 1
        t0 = time.perf_counter()
        try:
            r = session.request(method, self.base + path, json=body, timeout=60)
        except self.requests.RequestException:
            return None
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            self.answers += 1
            if self.answers >= self.kill_after:
                self.enough.set()
            self.latency[what].append(time.perf_counter() - t0)
            self.codes[(what, r.status_code)] += 1
            if r.status_code >= 500 or LOCKED in r.text[:2000]:
                self.problems.append(f"{what}: {r.status_code} {r.text[:300]}")
        return r

    def session(self, token: str):
        s = self.requests.Session()
        s.headers["Authorization"] = f"Token {token}"
        return s


def seed(clients: int):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from alweb.roles import Role
    from annotate.services.projects import project_create
    from tests.factories import add_member

    users = get_user_model().objects
    owner = users.create_user("drill-owner")
    project = project_create(
        owner=owner,
        name="sigkill",
        labels=["circle", "rectangle", "triangle"],
        kinds=["box", "polygon"],
    )
    add_items(project, 2 * clients, size=(SIZE, SIZE))
    out = []
    for i in range(clients):
        user = add_member(project, Role.ANNOTATOR, users.create_user(f"ann{i}"))
        token = Token.objects.create(user=user).key
        out.append(Client(index=i, token=token, client_id=f"drill-{i}-{os.getpid()}"))
    return project, out


def code(r) -> int | str:
    return "no answer" if r is None else r.status_code


def claim(load: Load, c: Client, project_id: int) -> dict | None:
    r = load.call(
        load.session(c.token),
        "claim",
        "POST",
        f"/api/v1/projects/{project_id}/tasks/next/",
        {"kind": "label"},
    )
    if r is None or r.status_code != 200:
        load.problems.append(f"client {c.index}: claim answered {code(r)}")
        return None
    return r.json()


def work(load: Load, c: Client, args, start: threading.Barrier) -> None:
    """Autosave `args.drafts` times, then submit; stop at the first lost answer."""
    s = load.session(c.token)
    start.wait()
    for step in range(1, args.drafts + 1):
        body = {"annotations": shapes_for(c.index, step, args.shapes)}
        body["version"] = c.version
        r = load.call(s, "draft", "PUT", f"/api/v1/tasks/{c.task}/draft/", body)
        if r is None:
            c.unanswered.append(f"draft {step}")
            return
        if r.status_code != 200:
            load.problems.append(f"client {c.index} draft {step}: {r.status_code}")
            return
        c.version = c.answered_version = r.json()["version"]
    body = {
        "annotations": shapes_for(c.index, args.drafts + 1, args.shapes),
        "client_id": c.client_id,
    }
    r = load.call(s, "submit", "POST", f"/api/v1/tasks/{c.task}/submit/", body)
    if r is None:
        c.unanswered.append("submit")
    elif r.status_code == 200:
        c.submit_answered = True
    else:
        load.problems.append(f"client {c.index} submit: {r.status_code} {r.text}")


def submit_events(task) -> int:
    from annotate.models import Event

    return Event.objects.filter(verb="label_submitted", item_id=task.item_id).count()


def check_after_crash(clients: list[Client], args) -> tuple[list[str], Counter]:
    """What the database holds after the kill, against what was answered."""
    from annotate.models import Annotation, Task

    problems, seen = [], Counter()
    final = args.drafts + 1
    for c in clients:
        task = Task.objects.select_related("item").get(pk=c.task)
        rows = Annotation.objects.filter(item=task.item).order_by("pk")
        stored = [(a.kind, a.label, a.geometry["bbox"]) for a in rows]
        submits = submit_events(task)
        where = f"client {c.index} task {c.task}"
        if task.draft_version < c.answered_version:
            problems.append(f"{where}: draft v{task.draft_version} < answered")
        if task.status == "submitted":
            seen["submitted"] += 1
            seen["submitted, answer lost"] += not c.submit_answered
            want = comparable(shapes_for(c.index, final, args.shapes))
            if stored != want or submits != 1 or task.item.status != "review":
                problems.append(
                    f"{where}: submitted but {len(stored)} annotations, "
                    f"{submits} events, item {task.item.status}"
                )
            continue
        if c.submit_answered:
            problems.append(f"{where}: submit answered 200 but the task is "
                            f"{task.status}")  # fmt: skip
        if stored or submits or task.item.status != "labeling":
            problems.append(f"{where}: not submitted, yet {len(stored)} annotations")
        seen["drafts applied, answer lost"] += task.draft_version > c.answered_version
        if task.draft_version == 0:
            if task.draft is not None:
                problems.append(f"{where}: a draft at version 0")
            continue
        want = comparable(shapes_for(c.index, task.draft_version, args.shapes))
        if comparable(task.draft or []) != want:
            problems.append(f"{where}: draft v{task.draft_version} is not that save")
    return problems, seen


def retry_submits(load: Load, clients: list[Client], args) -> list[str]:
    """Every client submits again with its client id: 200, applied once."""
    from annotate.models import Annotation, Task

    problems = []

    def one(c: Client):
        body = {
            "annotations": shapes_for(c.index, args.drafts + 1, args.shapes),
            "client_id": c.client_id,
        }
        path = f"/api/v1/tasks/{c.task}/submit/"
        r = load.call(load.session(c.token), "retry submit", "POST", path, body)
        if r is None or r.status_code != 200:
            problems.append(f"client {c.index} retry: {code(r)}")

    run_all(one, clients)
    for c in clients:
        shapes = comparable(shapes_for(c.index, args.drafts + 1, args.shapes))
        task = Task.objects.get(pk=c.task)
        rows = Annotation.objects.filter(item_id=task.item_id).order_by("pk")
        stored = [(a.kind, a.label, a.geometry["bbox"]) for a in rows]
        events = submit_events(task)
        if task.status != "submitted" or stored != shapes or events != 1:
            problems.append(
                f"client {c.index}: after the retry {task.status}, "
                f"{len(stored)} annotations, {events} submit events"
            )
    return problems


def race(load: Load, clients: list[Client], project_id: int, args) -> tuple:
    """Each client claims a new item and sends RACERS saves from version 0 at once."""
    from annotate.models import Task

    for c in clients:
        task = claim(load, c, project_id)
        c.task = task and task["id"]
    clients = [c for c in clients if c.task]  # a failed claim is a problem already
    answers: dict[int, list] = defaultdict(list)
    start = threading.Barrier(len(clients) * RACERS)

    def one(job):
        c, k = job
        s = load.session(c.token)
        body = {"annotations": shapes_for(c.index, 10 + k, args.shapes), "version": 0}
        start.wait()
        r = load.call(s, "race draft", "PUT", f"/api/v1/tasks/{c.task}/draft/", body)
        answers[c.index].append((k, r))

    run_all(one, [(c, k) for c in clients if c.task for k in range(RACERS)])
    problems, losers = [], 0
    for c in clients:
        got = answers[c.index]
        won = [k for k, r in got if r is not None and r.status_code == 200]
        lost = [r for _, r in got if r is not None and r.status_code == 409]
        losers += len(lost)
        task = Task.objects.get(pk=c.task)
        ok = (
            len(won) == 1
            and len(lost) == RACERS - 1
            and all(r.json().get("version") == 1 for r in lost)
            and task.draft_version == 1
            and comparable(task.draft) == comparable(
                shapes_for(c.index, 10 + won[0], args.shapes)
            )
        )  # fmt: skip
        if not ok:
            codes = [code(r) for _, r in got]
            problems.append(f"client {c.index} race: {codes}, v{task.draft_version}")
    return problems, losers


def run_all(fn, jobs) -> None:
    threads = [threading.Thread(target=fn, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def integrity() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        return cursor.fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--drafts", type=int, default=3)
    parser.add_argument("--shapes", type=int, default=20)
    parser.add_argument(
        "--kill-after",
        type=int,
        help="answers before the kill (default clients x drafts: while the "
        "last drafts and the first submits are in flight)",
    )
    args = parser.parse_args()
    args.kill_after = args.kill_after or args.clients * args.drafts

    var = setup_django("sigkill", sync=False)
    from tests import gunicorn

    project, clients = seed(args.clients)
    env = {**os.environ, "ALWEB_LOG_LEVEL": "WARNING", "ALWEB_DEMO": "0"}
    load = Load(args.kill_after)
    figures: dict[str, object] = {}
    t0 = time.monotonic()
    server = gunicorn.start(env, workers=2, threads=4)
    logs = []
    try:
        figures["start-up"] = f"{time.monotonic() - t0:.1f} s"
        load.base = server.url
        for c in clients:
            task = claim(load, c, project.pk)
            c.task = task and task["id"]
        if load.problems:
            raise SystemExit("\n".join(load.problems))
        load.answers, load.latency = 0, defaultdict(list)
        start = threading.Barrier(len(clients))
        threads = [
            threading.Thread(target=work, args=(load, c, args, start)) for c in clients
        ]
        for t in threads:
            t.start()
        t_load = time.monotonic()
        if not load.enough.wait(timeout=120):
            load.problems.append(f"only {load.answers} answers before the kill")
        with load.lock:
            figures["answers before SIGKILL"] = load.answers
            figures["requests in flight at SIGKILL"] = in_flight = load.in_flight
        figures["SIGKILL after"] = f"{time.monotonic() - t_load:.2f} s of load"
        t_kill = time.monotonic()
        gunicorn.kill(server.proc)
        for t in threads:
            t.join(timeout=120)
        logs += server.log
        server = gunicorn.start(env, workers=2, threads=4)
        figures["SIGKILL to serving again"] = f"{time.monotonic() - t_kill:.1f} s"
        load.base = server.url
        if not in_flight:
            load.problems.append("no request was in flight at the kill")
        problems, seen = check_after_crash(clients, args)
        answered = Counter()
        for (what, code), n in load.codes.items():
            if what in ("draft", "submit") and code == 200:
                answered[what] += n
        lost = Counter(u.split()[0] for c in clients for u in c.unanswered)
        figures["answered 200 before the kill"] = (
            f"{answered['draft']} draft saves, {answered['submit']} submits"
        )
        figures["cut off (no answer)"] = (
            f"{lost['draft']} draft saves, {lost['submit']} submits"
        )
        figures["applied but answer lost"] = (
            f"{seen['drafts applied, answer lost']} draft saves, "
            f"{seen['submitted, answer lost']} submits"
        )
        problems += retry_submits(load, clients, args)
        race_problems, losers = race(load, clients, project.pk, args)
        problems += race_problems
        figures["race (4 saves from version 0 per task)"] = (
            f"{len(clients)} applied, {losers} answered 409"
        )
    finally:
        gunicorn.stop(server.proc)
        logs += server.log
    problems = load.problems + problems
    problems += [f"log: {line[:200]}" for line in logs if LOCKED in line]
    check = integrity()
    if check != "ok":
        problems.append(f"integrity_check: {check}")

    print(
        f"== drill: SIGKILL gunicorn with saves in flight ({args.clients} clients, "
        f"{args.drafts} drafts + 1 submit each, {args.shapes} shapes per save) =="
    )
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} | {os.cpu_count()} cores | var {var}")
    for key, value in figures.items():
        print(f"{key}: {value}")
    for what, values in sorted(load.latency.items()):
        values = sorted(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(
            f"  {what:13s} n={len(values):4d} "
            f"p50 {statistics.median(values) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"
        )
    codes = Counter()
    for (_, code), n in load.codes.items():
        codes[code] += n
    print("HTTP codes:", dict(sorted(codes.items())))
    print(f"integrity_check: {check}")
    print(f"problems: {len(problems)}")
    for problem in problems[:30]:
        print("  -", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
