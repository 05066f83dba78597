"""CPU time and queries per request of the annotator and reviewer endpoints at
100,000 items (#15), on SQLite, in-process.

Seeds a fresh database with `manage.py seed_large --items N`, or copies the
SQLite file of an earlier seeding (`--var DIR`: a var dir holding a seeded
db.sqlite3 and its media; the copy is migrated, so every run starts from the
same rows and the var dir is never changed). Adds --annotators annotators and a
reviewer with API tokens (as bench/drill_annotators.py), then through Django's
test client with `Authorization: Token ...` (the drill's requests, the whole
middleware and DRF stack) runs --rounds rounds, the annotators in turn:
claim-next (label), a versioned draft save, submit with a client id and 2
boxes; then the reviewer's review claim and approve. The first 2 rounds are a
warm-up. Prints per endpoint the median and max of time.process_time() (this
process: the client, the view and SQLite, which runs in-process) and the
median query count, with the load average.

`--explain` prints each query of one round with SQLite's EXPLAIN QUERY PLAN;
`--profile` prints cProfile's top functions (cumulative) over the measured
rounds of each endpoint; with ALWEB_PROFILE_DUMP=PREFIX it also writes each
endpoint's profile to PREFIX-<endpoint>.prof (for pstats). Its function-call
counts are the repeatable figure: the CPU times move by ±10 % between runs.

Usage: .venv/bin/python bench/requests_cpu.py [--items 100000] [--rounds 30]
       [--annotators 20] [--var DIR] [--explain] [--profile]
"""

import argparse
import atexit
import cProfile
import io
import os
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from _common import setup_django  # noqa: E402

ENDPOINTS = ("claim-next", "draft", "submit", "review claim", "approve")
BOXES = [
    {"kind": "box", "label": "circle", "bbox": [10, 10, 40, 30]},
    {"kind": "box", "label": "triangle", "bbox": [100, 80, 50, 50]},
]


def copy_seeded(var: str) -> Path:
    """A scratch copy of `var`'s database (checkpointed first) in a temp dir,
    removed when the bench ends."""
    src = Path(var) / "db.sqlite3"
    con = sqlite3.connect(src)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    folder = Path(tempfile.mkdtemp(prefix="alweb-bench-requests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    scratch = folder / "db.sqlite3"
    shutil.copyfile(src, scratch)
    return scratch


def setup(args) -> None:
    if not args.var:
        var = setup_django("requests-cpu", sync=False)
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("seed_large", items=args.items, stdout=io.StringIO())
        print(f"seeded {args.items} items in {time.perf_counter() - t0:.0f} s: {var}")
        return
    os.environ["ALWEB_VAR_DIR"] = args.var
    os.environ["ALWEB_SQLITE_PATH"] = str(copy_seeded(args.var))
    os.environ["ALWEB_Q_SYNC"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Counter:
    """Counts the queries run (a cheap execute wrapper, no query log)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def members(n_annotators: int):
    from django.contrib.auth import get_user_model

    from alweb.accounts import api_token_create
    from alweb.roles import Role
    from annotate.models import Project
    from annotate.services.seeding import members_seed

    project = Project.objects.get()
    users = get_user_model().objects
    people = {
        Role.ANNOTATOR: [users.create_user(f"cpu-ann{i}") for i in range(n_annotators)],
        Role.REVIEWER: [users.create_user("cpu-rev0")],
    }
    members_seed(project=project, users=people)
    tokens = {r: [api_token_create(user=u) for u in us] for r, us in people.items()}
    return project, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--var", default=None, help="a seeded var dir to copy")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    setup(args)
    from django.db import connection
    from django.test import Client

    from alweb.roles import Role
    from annotate.models import Item

    project, tokens = members(args.annotators)
    annotators = [
        Client(HTTP_AUTHORIZATION=f"Token {t}") for t in tokens[Role.ANNOTATOR]
    ]
    reviewer = Client(HTTP_AUTHORIZATION=f"Token {tokens[Role.REVIEWER][0]}")
    cpu, queries = defaultdict(list), defaultdict(list)
    profiles = {e: cProfile.Profile() for e in ENDPOINTS}
    counter = Counter()
    state = {"measure": False, "explain": None}

    def call(what, client, method, path, body):
        counter.n = 0
        prof = profiles[what] if state["measure"] and args.profile else None
        c0 = time.process_time()
        if prof:
            prof.enable()
        with connection.execute_wrapper(counter):
            response = getattr(client, method)(
                path, body, content_type="application/json"
            )
        if prof:
            prof.disable()
        spent = (time.process_time() - c0) * 1000
        assert response.status_code == 200, (
            what,
            response.status_code,
            response.content,
        )
        if state["measure"]:
            cpu[what].append(spent)
            queries[what].append(counter.n)
        return response.json()

    def one_round(k: int) -> None:
        client = annotators[k % len(annotators)]
        pid = project.pk
        task = call(
            "claim-next",
            client,
            "post",
            f"/api/v1/projects/{pid}/tasks/next/",
            {"kind": "label"},
        )
        saved = call(
            "draft",
            client,
            "put",
            f"/api/v1/tasks/{task['id']}/draft/",
            {"annotations": BOXES[:1], "version": task.get("version", 0)},
        )
        call(
            "submit",
            client,
            "post",
            f"/api/v1/tasks/{task['id']}/submit/",
            {
                "annotations": BOXES,
                "client_id": f"cpu-{k}",
                "version": saved["version"],
            },
        )
        review = call(
            "review claim",
            reviewer,
            "post",
            f"/api/v1/projects/{pid}/tasks/next/",
            {"kind": "review"},
        )
        call("approve", reviewer, "post", f"/api/v1/tasks/{review['id']}/approve/", {})

    load0 = os.getloadavg()[0]
    for k in range(2):
        one_round(k)
    if args.explain:
        log = []

        def record(execute, sql, params, many, context):
            c0 = time.process_time()
            try:
                return execute(sql, params, many, context)
            finally:
                log.append((sql, params, (time.process_time() - c0) * 1000))

        with connection.execute_wrapper(record):
            one_round(2)
        for sql, params, ms in log:
            print(f"{ms:6.2f} ms  {sql[:400]}")
            if sql.lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                    for row in cur.fetchall():
                        print("           plan:", row[-1])
    state["measure"] = True
    for k in range(3, 3 + args.rounds):
        one_round(k)
    n_items = Item.objects.filter(project=project).count()
    print(
        f"{connection.vendor}, {n_items} items, {args.rounds} rounds, "
        f"load average {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    for what in ENDPOINTS:
        print(
            f"{what:<13} CPU median {statistics.median(cpu[what]):6.1f} ms, max "
            f"{max(cpu[what]):6.1f} | queries {statistics.median(queries[what]):4.0f}"
        )
    total = sum(statistics.median(cpu[w]) for w in ENDPOINTS)
    print(f"per round (5 requests) {total:.1f} ms, mean {total / 5:.1f} ms per request")
    if args.profile:
        for what in ENDPOINTS:
            print(f"--- {what}")
            out = io.StringIO()
            stats = pstats.Stats(profiles[what], stream=out)
            stats.sort_stats("cumulative").print_stats(str(REPO), 40)
            print(out.getvalue()[-8000:])
            if os.environ.get("ALWEB_PROFILE_DUMP"):  # for pstats or snakeviz
                stats.dump_stats(f"{os.environ['ALWEB_PROFILE_DUMP']}-{what}.prof")


if __name__ == "__main__":
    main()
