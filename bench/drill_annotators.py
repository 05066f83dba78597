"""Drill and benchmark: 20 annotators claim, autosave and submit against real
gunicorn while 3 reviewers approve and a scoring run rewrites priorities.

Makes a fresh database: a SQLite file (WAL, as alweb/settings.py configures
it) by default, or with --postgres a throwaway PostgreSQL server started (and
always stopped) by scripts/test-services.sh. Migrates it, seeds a project of
--items items with `manage.py seed_large` (shared small image files), adds 20
annotators, 3 reviewers and an annotation manager with API tokens, and starts
gunicorn on loopback (tests/gunicorn.py; 3 workers x 3 gthread threads, as
scripts/run.sh). Then for --seconds, as separate processes (multiprocessing,
each its own requests.Session and token):

- each annotator: claim-next, an autosave of a draft (versioned: a 409 on a
  stale version is a correct answer, counted apart), submit with a client id
  and 1-3 boxes, --pause seconds between actions (1.0 as a fast person; 0: none);
- each reviewer: claim a review task and approve it;
- the manager: the items list (API, filters and a deep page; the HTML item
  browser) and the project dashboard, one request every 0.5 s;
- a rewriter: models_mgmt.services.scoring.prioritise_project (the service a
  scoring run ends with) in a loop, in its own process on the same database,
  at the CPU priority of a work-queue worker (settings.ALWEB_Q_NICE: nice 10
  unless ALWEB_Q_WORK_NICE says otherwise);
- with --training, a trainer: real ultralytics training (yolov8n from scratch,
  64 generated 320x320 images, one epoch after another) in its own process at
  the CPU priority of a training-queue worker (ALWEB_Q_TRAINING_NICE, 10).

Checks, from the database afterwards and from every answer: no item held by two
annotators at once (label Task rows whose leases overlap), every submit
answered 2xx stored with exactly its shapes, no 5xx, no "database is locked"
(answers, gunicorn's log, the rewriter). Prints requests/s, claim+submit
rounds/s, p50/p95 per endpoint, gunicorn's CPU time per request and its
workers' peak RSS, against issue 15's targets. Exits 1 on any failed check
(a missed target is printed, not a failure).

Leaves out: the browser (its images, thumbnails and static files), a real model
(the rewrite recomputes priorities from the seeded scores), qcluster workers
(jobs enqueued by the load are left queued; the rewriter and the trainer set
their nice value with runs.queues.priority_lower, as a worker does), power
loss, and the network.

Usage: .venv/bin/python bench/drill_annotators.py [--items 100000]
       [--seconds 120] [--pause 1.0] [--postgres] [--rewrite-pause 1.0 | --no-rewrite]
       [--workers 3] [--threads 3] [--training] [--trace]
"""

import argparse
import atexit
import io
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import _annotators_load as load  # noqa: E402
from _common import setup_django  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
TARGETS = [  # (what, endpoint or figure, limit, paced only)
    ("claim-next p95 (paced)", "claim-next", 30.0),
    ("submit p95 (paced)", "submit", 30.0),
    ("items list p95", "items list (API)", 300.0),
    ("dashboard p95", "dashboard (HTML)", 500.0),
]


def pct(values, q):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(q * len(values)) - 1))]


def postgres_start(folder: str) -> str:
    script = REPO / "scripts" / "test-services.sh"
    subprocess.run(["bash", str(script), "start", folder], check=True)
    for line in Path(folder, "env").read_text().splitlines():
        if line.startswith("export DATABASE_URL="):
            return line.split("=", 1)[1]
    raise SystemExit("test-services wrote no DATABASE_URL")


def seed(items: int, annotators: int, reviewers: int):
    """seed_large's project plus the drill's members, their tokens, and the
    manager's session cookie."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from alweb.accounts import api_token_create
    from alweb.roles import Role
    from annotate.models import Project
    from annotate.services.seeding import members_seed

    t0 = time.perf_counter()
    call_command("seed_large", items=items, verbosity=0, stdout=io.StringIO())
    project = Project.objects.get()
    users = get_user_model().objects
    members = {
        Role.ANNOTATOR: [users.create_user(f"drill-ann{i}") for i in range(annotators)],
        Role.REVIEWER: [users.create_user(f"drill-rev{i}") for i in range(reviewers)],
        Role.ANNOTATION_MANAGER: [users.create_user("drill-manager")],
    }
    members_seed(project=project, users=members)
    tokens = {
        role: [api_token_create(user=u) for u in people]
        for role, people in members.items()
    }
    client = Client()
    client.force_login(members[Role.ANNOTATION_MANAGER][0])
    cookie = client.cookies["sessionid"].value
    return project, members, tokens, cookie, time.perf_counter() - t0


class Gauge:
    """gunicorn's processes from /proc: CPU ticks per pid, peak RSS per worker."""

    def __init__(self, master: int):
        self.master = master
        self.ticks: dict[int, int] = {}
        self.base: dict[int, int] = {}
        self.rss_peak: dict[int, int] = {}
        self.stop = threading.Event()

    def pids(self) -> list[int]:
        out = [self.master]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.master:
                    out.append(int(entry))
        return out

    def sample(self) -> None:
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            self.ticks[pid] = int(fields[11]) + int(fields[12])
            if pid != self.master:
                for line in status.splitlines():
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        kib = int(line.split()[1])
                        self.rss_peak[pid] = max(self.rss_peak.get(pid, 0), kib)

    def begin(self) -> None:
        self.sample()
        self.base = dict(self.ticks)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def cpu_seconds(self) -> float:
        return sum(t - self.base.get(p, 0) for p, t in self.ticks.items()) / TICK


def run_load(args, server, project, tokens, cookie):
    from django.db import connections

    from alweb.roles import Role

    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    n = len(tokens[Role.ANNOTATOR]) + len(tokens[Role.REVIEWER]) + 1
    start = ctx.Barrier(n + 1 + (not args.no_rewrite) + args.training)
    common = (server.url,)
    procs = (
        [
            ctx.Process(
                target=load.annotator,
                args=(
                    i,
                    *common,
                    tok,
                    project.pk,
                    args.seconds,
                    args.pause,
                    start,
                    out,
                ),
            )
            for i, tok in enumerate(tokens[Role.ANNOTATOR])
        ]
        + [
            ctx.Process(
                target=load.reviewer,
                args=(
                    i,
                    *common,
                    tok,
                    project.pk,
                    args.seconds,
                    args.pause,
                    start,
                    out,
                ),
            )
            for i, tok in enumerate(tokens[Role.REVIEWER])
        ]
        + [
            ctx.Process(
                target=load.manager,
                args=(
                    *common,
                    tokens[Role.ANNOTATION_MANAGER][0],
                    cookie,
                    project.pk,
                    args.items,
                    args.seconds,
                    start,
                    out,
                ),
            ),
        ]
    )
    if not args.no_rewrite:
        procs.append(
            ctx.Process(
                target=load.rewriter,
                args=(project.pk, args.seconds, args.rewrite_pause, start, out),
            )
        )
    if args.training:  # its dataset and weights, removed when the drill ends
        folder = tempfile.mkdtemp(prefix="alweb-drill-training-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        procs.append(
            ctx.Process(target=load.trainer, args=(folder, args.seconds, start, out))
        )
    connections.close_all()  # the children must not share the parent's connection
    for p in procs:
        p.start()
    start.wait()
    t0 = time.monotonic()
    results = []
    try:
        for _ in procs:
            results.append(out.get(timeout=args.seconds + 300))
    finally:
        elapsed = time.monotonic() - t0
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    return results, elapsed


def check_db(results, annotator_ids, since) -> tuple[list[str], dict]:
    from annotate.models import Annotation, AnnotationSource, Task, TaskKind

    problems, seen = [], Counter()
    tasks = Task.objects.filter(
        kind=TaskKind.LABEL, assignee_id__in=annotator_ids, created_at__gte=since
    ).order_by("item_id", "created_at", "id")
    by_item = defaultdict(list)
    for t in tasks.values("id", "item_id", "assignee_id", "created_at", "finished_at"):
        by_item[t["item_id"]].append(t)
    seen["label tasks claimed"] = sum(len(v) for v in by_item.values())
    for item_id, rows in by_item.items():
        for a, b in zip(rows, rows[1:], strict=False):
            if a["finished_at"] is None or a["finished_at"] > b["created_at"]:
                problems.append(
                    f"duplicate claim: item {item_id} tasks {a['id']} and {b['id']}"
                )
    claimed = {tid for r in results for tid, _ in r.get("claims", [])}
    known = set(tasks.values_list("id", flat=True))
    if claimed - known:
        problems.append(f"{len(claimed - known)} claims answered but not in Task rows")
    submits = [s for r in results for s in r.get("submits", [])]
    status_of = dict(
        Task.objects.filter(pk__in=[s[0] for s in submits]).values_list("id", "status")
    )
    stored = defaultdict(list)
    rows = Annotation.objects.filter(
        item_id__in=[s[1] for s in submits], source=AnnotationSource.HUMAN
    ).values_list("item_id", "label", "geometry")
    for item_id, label, geometry in rows:
        stored[item_id].append((label, [round(v, 3) for v in geometry["bbox"]]))
    for task_id, item_id, shapes in submits:
        want = sorted((s["label"], [round(v, 3) for v in s["bbox"]]) for s in shapes)
        if status_of.get(task_id) not in ("submitted", "approved"):
            problems.append(
                f"submit of task {task_id} answered 2xx, task is "
                f"{status_of.get(task_id)}"
            )
        elif sorted(stored[item_id]) != want:
            problems.append(
                f"submit of task {task_id}: {len(stored[item_id])} "
                f"shapes stored, {len(want)} submitted"
            )
    seen["submits answered 2xx, checked"] = len(submits)
    return problems, seen


def report(args, figures, results, elapsed, gauge, problems) -> dict:
    latency, codes, client_cpu = defaultdict(list), Counter(), defaultdict(list)
    for r in results:
        for what, values in r["latency"].items():
            latency[what] += values
        for what, values in r.get("client_cpu", {}).items():
            client_cpu[what] += values
        codes.update(r["codes"])
    http = sum(n for (what, _), n in codes.items())
    rounds = codes[("submit", 200)]
    cpu = gauge.cpu_seconds()
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(
        f"load: {elapsed:.1f} s, {http} requests, {http / elapsed:.1f} requests/s, "
        f"{rounds} claim+submit rounds, {rounds / elapsed:.1f} rounds/s"
    )
    print(
        f"stale-version 409s (correct answers): "
        f"{sum(r.get('stale', 0) for r in results)}; approvals: "
        f"{sum(r.get('approved', 0) for r in results)}; priorities written: "
        f"{sum(r.get('written', 0) for r in results)}"
    )
    for r in results:
        if r["role"] in ("rewriter", "trainer"):
            print(f"{r['role']}: nice {r['nice']}")
    print(f"gunicorn CPU: {cpu:.1f} s, {cpu * 1000 / max(1, http):.1f} ms per request")
    peak = max(gauge.rss_peak.values(), default=0) / 1024
    print(
        f"gunicorn workers' peak RSS: {peak:.0f} MiB (largest of "
        f"{len(gauge.rss_peak)}; sum {sum(gauge.rss_peak.values()) / 1024:.0f} MiB)"
    )
    for what in sorted(latency):
        v = latency[what]
        if not v:  # e.g. a training whose first epoch outlasted the load
            print(f"  {what:22s} n=     0")
            continue
        print(
            f"  {what:22s} n={len(v):6d} p50 {pct(v, 0.5):8.1f} ms  "
            f"p95 {pct(v, 0.95):8.1f} ms  max {max(v):8.1f} ms"
        )
    mine = [w for w in ("claim-next", "draft", "submit") if client_cpu.get(w)]
    if mine:
        print(
            "the clients' own CPU per call (ms, p50/p95; inside the latency): "
            + ", ".join(
                f"{w} {pct(client_cpu[w], 0.5):.1f}/{pct(client_cpu[w], 0.95):.1f}"
                for w in mine
            )
        )
    total = Counter()
    for (_, c), n in codes.items():
        total[c] += n
    print("HTTP codes:", dict(sorted(total.items(), key=lambda kv: str(kv[0]))))
    print("targets (issue 15):")
    for name, what, limit in TARGETS:
        if "paced" in name and args.pause < 1.0:
            continue
        if latency.get(what):
            got = pct(latency[what], 0.95)
            print(
                f"  {name}: {got:.1f} ms vs <= {limit:.0f} ms "
                f"{'met' if got <= limit else 'MISSED'}"
            )
    if args.pause == 0:
        print(
            f"  rounds/s (no pause): {rounds / elapsed:.1f} vs >= 90 "
            f"{'met' if rounds / elapsed >= 90 else 'MISSED'}"
        )
    print(
        f"  web RSS: {peak:.0f} MiB vs <= 300 MB "
        f"{'met' if peak * 2**20 <= 300e6 else 'MISSED'}"
    )
    print(f"problems: {len(problems)}")
    for problem in problems[:30]:
        print("  -", problem)
    return {"codes": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--rewrite-pause",
        type=float,
        default=1.0,
        help="seconds between two priority rewrites (default 1.0: back to back)",
    )
    parser.add_argument(
        "--no-rewrite", action="store_true", help="no priority rewriter (a baseline)"
    )
    parser.add_argument(
        "--training",
        action="store_true",
        help="a real ultralytics training on the CPU beside the load",
    )
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="time each request's CPU, BEGIN wait and SQL inside gunicorn",
    )
    args = parser.parse_args()
    services = tempfile.mkdtemp(prefix="alweb-drill-pg-") if args.postgres else None
    try:
        if services:
            os.environ["DATABASE_URL"] = postgres_start(services)
        else:
            os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)  # the ORM broker: no qcluster runs
        return drill(args)
    finally:
        if services:
            subprocess.run(
                ["bash", str(REPO / "scripts" / "test-services.sh"), "stop", services],
                check=False,
            )


def drill(args) -> int:
    os.environ["ALWEB_LOG_LEVEL"] = "WARNING"
    var = setup_django("annotators", sync=False)
    from django.db import connection
    from django.utils import timezone

    from alweb.roles import Role
    from tests import gunicorn

    project, members, tokens, cookie, seeded = seed(
        args.items, args.annotators, args.reviewers
    )
    figures = {
        "engine": f"{connection.vendor} ({os.environ.get('DATABASE_URL') or var})",
        "seeded": f"{args.items} items in {seeded:.1f} s",
    }
    since = timezone.now()
    connection.close()
    env = {**os.environ, "ALWEB_DEMO": "0"}
    if args.trace:
        env["ALWEB_TRACE_DIR"] = tempfile.mkdtemp(prefix="alweb-trace-")
        env["GUNICORN_CMD_ARGS"] = f"--config {REPO / 'bench' / '_gunicorn_trace.py'}"
    t0 = time.monotonic()
    server = gunicorn.start(env, workers=args.workers, threads=args.threads)
    figures["gunicorn"] = (
        f"{args.workers} workers x {args.threads} threads, "
        f"serving in {time.monotonic() - t0:.1f} s"
    )
    gauge = Gauge(server.proc.pid)
    try:
        gauge.begin()
        results, elapsed = run_load(args, server, project, tokens, cookie)
        gauge.stop.set()
        gauge.sample()
    finally:
        gunicorn.stop(server.proc)
    figures["load average (1, 5, 15 min) after"] = " ".join(
        f"{v:.2f}" for v in os.getloadavg()
    )
    problems = [p for r in results for p in r["problems"]]
    problems += [f"log: {line[:200]}" for line in server.log if load.LOCKED in line]
    annotator_ids = [u.pk for u in members[Role.ANNOTATOR]]
    db_problems, seen = check_db(results, annotator_ids, since)
    problems += db_problems
    figures.update(seen)
    print(
        f"== drill: {args.annotators} annotators, {args.reviewers} reviewers, "
        f"{'no' if args.no_rewrite else 'a'} priority rewriter, "
        f"{'a training, ' if args.training else ''}the manager; "
        f"{args.items} items, pause {args.pause} s "
        f"=="
    )
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')} | {os.cpu_count()} cores")
    got = report(args, figures, results, elapsed, gauge, problems)
    if args.trace:
        from _gunicorn_trace import summarize

        summarize(env["ALWEB_TRACE_DIR"])
    if any(isinstance(c, int) and c >= 500 for c in got["codes"]):
        problems.append("5xx answers")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
