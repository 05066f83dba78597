"""Drill (issue 15): killed workers, a stopped cluster and a killed broker.

Each scenario runs in a child process of its own on a fresh SQLite database,
with real `manage.py qcluster` processes (housekeeping, training, work), the
scripted slow backend (tests/runs/slow_backend.py: training and scoring hold
while a file exists, so a kill lands mid-run for sure),
ALWEB_HEARTBEAT_STALE_SECONDS=10 and the reaper's own schedule (every minute,
migration models_mgmt 0003): a dead run must end within 60 + 10 s (+ slack).

  train     SIGKILL the training cluster's process group mid-training
  score     SIGKILL the work cluster mid-scoring (the promotion's re-score)
  export    SIGKILL the work cluster mid-export (a background YOLO export of
            seed_large's items)
  sigterm   SIGTERM the clusters (as Ctrl-C) with a training running and runs
            queued; queue more while they are down; restart
  redis     (--redis) SIGKILL redis-server mid-training, enqueue while it is
            down, restart it on the same port
  redis_boot  (--redis) start the work cluster while Redis is down; restart
            Redis: the cluster serves the next export within 30 s
  redis_long  (--redis) Redis down 75 s (DRILL_OUTAGE_S) mid-training:
            every cluster survives and serves an export and a training after
  worker    SIGKILL one worker process (not its cluster) mid-training, then
            mid-scoring: reincarnated, the run reaped, its retry succeeds
  housekeeping  SIGKILL the housekeeping (reaper's) cluster with a run stuck;
            restart it: the stuck run is reaped after the restart

After each kill: every run reaches a terminal state; a killed run is failed by
the reaper with a clear error, its retry (POST /api/v1/runs/{id}/retry/)
succeeds once, and GET /api/v1/runs/{id}/ (Django test client) shows the
status and error the database holds. Prints a table; exits non-zero on any
failed check.

Usage: .venv/bin/python bench/drill_workers.py [--redis] [--only train,score]
(scenarios from bench/_drill_scenarios.py: redis_boot, redis_long, worker,
housekeeping)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _drill_harness import (  # noqa: E402
    LIMIT,
    REAPER_EVERY,
    REPO,
    SCENARIOS,
    STALE,
    TERMINAL,
    Drill,
    api_client,
    drill_project,
    free_port,
    hold,
    killed_then_retried,
    redis_start,
    redis_stop,
    train_once,
)
from _drill_scenarios import (  # noqa: E402
    scenario_housekeeping,
    scenario_redis_boot,
    scenario_redis_long,
    scenario_worker,
)

REDIS_SCENARIOS = ("redis", "redis_boot", "redis_long")
SCENARIO = {
    "redis_boot": scenario_redis_boot,
    "redis_long": scenario_redis_long,
    "worker": scenario_worker,
    "housekeeping": scenario_housekeeping,
}


def scenario_train(d: Drill) -> dict:
    from models_mgmt.models import ModelVersion

    project, owner, _ = drill_project("train")
    client = api_client(owner)
    hold(d.var, "training", True)
    d.start("alweb", "training")
    version_id, job_id = train_once(d, client, project)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    d.kill("training")
    hold(d.var, "training", False)
    killed = ModelVersion.objects.get(pk=version_id)
    d.check(
        "killed attempt stored no weights or metrics",
        not killed.weights and not killed.metrics.get("map50"),
    )
    took = killed_then_retried(d, client, job_id, "training")
    version = ModelVersion.objects.get(pk=version_id)
    d.check(
        "version done once: weights and metrics of the retry",
        version.status == "done" and bool(version.weights) and version.metrics,
    )
    d.check("version marked best", version.is_best)
    return {"outcome": "reaped, retry succeeded", "terminal_s": took}


def scenario_score(d: Drill) -> dict:
    from annotate.models import Item
    from runs.models import Job

    project, owner, pool = drill_project("score", pool=40)
    client = api_client(owner)
    hold(d.var, "scoring", True)
    d.start("alweb", "training", "work")
    version_id, train_id = train_once(d, client, project)
    train, _ = d.terminal(train_id, timeout=120)
    d.check("training (not held) succeeded", train.status == "succeeded")
    job = d.wait(
        lambda: Job.objects.filter(
            project=project, kind="score", status="running"
        ).first(),
        60,
        "the promotion's scoring run to start",
    )
    d.wait(lambda: (d.var / "scoring-started").exists(), 60, "scoring to start")
    d.kill("work")
    hold(d.var, "scoring", False)
    d.check(
        "killed attempt scored nothing",
        not Item.objects.filter(
            pk__in=[i.pk for i in pool], scored_by=version_id
        ).exists(),
    )
    took = killed_then_retried(d, client, job.pk, "work")
    unscored = (
        Item.objects.filter(pk__in=[i.pk for i in pool])
        .exclude(scored_by=version_id)
        .count()
    )
    d.check(f"every pool item scored by the new model ({unscored} left)", not unscored)
    return {"outcome": "reaped, retry succeeded", "terminal_s": took}


def scenario_export(d: Drill, items: int) -> dict:
    import zipfile

    from django.conf import settings
    from django.core.management import call_command

    from annotate.models import Project
    from runs.models import Job

    call_command("seed_large", items=items, name="export", verbosity=0)
    project = Project.objects.get(name="export")
    owner = project.memberships.get(role="owner").user
    client = api_client(owner)
    d.start("alweb", "work")
    r = client.get(f"/api/v1/projects/{project.pk}/export/", {"format": "yolo"})
    assert r.status_code == 202, r.content
    job_id = r.json()["job"]
    t0 = time.monotonic()
    d.wait(
        lambda: Job.objects.filter(
            pk=job_id, status__in=["running", *TERMINAL]
        ).exists(),
        60,
        "the export to start",
    )
    time.sleep(0.5)
    d.kill("work")
    job = Job.objects.get(pk=job_id)
    d.check(
        f"killed mid-export (progress {job.progress:.2f}, "
        f"{time.monotonic() - t0:.1f} s after the request)",
        job.status == "running",
    )
    took = killed_then_retried(d, client, job_id, "work")
    folder = Path(settings.MEDIA_ROOT) / "exports" / str(project.pk)
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    stored = d.retry.result.get("file", "")
    d.check(
        f"one export file, the retry's ({len(files)} stored)",
        files == [Path(stored).name],
    )
    with zipfile.ZipFile(Path(settings.MEDIA_ROOT) / stored) as archive:
        d.check(
            "export zip complete",
            archive.testzip() is None and "data.yaml" in archive.namelist(),
        )
    return {"outcome": "reaped, retry succeeded", "terminal_s": took}


def scenario_sigterm(d: Drill) -> dict:
    from runs.models import Job

    a, owner_a, _ = drill_project("a")
    b, owner_b, _ = drill_project("b", gt=12, pool=10)
    hold(d.var, "training", True)
    d.start("alweb", "training", "work")
    ca, cb = api_client(owner_a), api_client(owner_b)
    _, running = train_once(d, ca, a)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    _, queued = train_once(d, cb, b)  # waits behind a (one training worker)
    stopped = d.term("training")
    d.term("work")
    d.notes.append(f"training cluster stopped {stopped:.1f} s after SIGTERM")
    hold(d.var, "training", False)
    r = cb.get(f"/api/v1/projects/{b.pk}/export/", {"format": "yolo"})
    d.check("export queued while the clusters are down (202)", r.status_code == 202)
    export = r.json()["job"]
    states = {j: Job.objects.get(pk=j).status for j in (running, queued, export)}
    d.notes.append(f"after SIGTERM: {states}")
    t0 = time.monotonic()
    d.start("training", "work")
    times = {}
    for j in (running, queued, export):
        job, _ = d.terminal(j)
        times[j] = time.monotonic() - t0
        d.ui_truth(cb if j != running else ca, job)
    jobs = {j: Job.objects.get(pk=j) for j in times}
    first = jobs[running]
    d.check(
        f"the run that was running: {first.status} ({first.error[:60] or 'no error'})",
        first.status == "succeeded" or "heartbeat" in first.error,
    )
    d.check("queued training ran after the restart", jobs[queued].status == "succeeded")
    d.check("queued export ran after the restart", jobs[export].status == "succeeded")
    d.check(
        "nothing left queued or running",
        not Job.objects.filter(status__in=["queued", "running"]).exists(),
    )
    return {
        "outcome": ", ".join(f"{j.kind} {j.status}" for j in jobs.values()),
        "terminal_s": max(times.values()),
    }


def scenario_redis(d: Drill) -> dict:
    from runs.models import Job

    port = int(os.environ["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    a, owner_a, _ = drill_project("a")
    b, owner_b, _ = drill_project("b", pool=10)
    ca, cb = api_client(owner_a), api_client(owner_b)
    hold(d.var, "training", True)
    d.start("alweb", "training", "work")
    _, job_id = train_once(d, ca, a)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    started = {n: d.running(n) for n in d.procs}
    redis_stop(Path(os.environ["ALWEB_REDIS_DIR"]), hard=True)
    t_kill = time.monotonic()
    d.notes.append(f"clusters past their start-up when Redis was killed: {started}")
    r = cb.get(f"/api/v1/projects/{b.pk}/export/", {"format": "yolo"})
    d.check(
        f"export requested while Redis is down: {r.status_code}", r.status_code < 500
    )
    down = r.json().get("job") if r.status_code == 202 else None
    if down:
        d.notes.append(
            f"run enqueued while Redis was down: {Job.objects.get(pk=down).status}"
        )
    time.sleep(3)
    redis_start(Path(os.environ["ALWEB_REDIS_DIR"]), port)
    hold(d.var, "training", False)
    job, _ = d.terminal(job_id)
    took = time.monotonic() - t_kill
    d.check(
        f"training run {job.status} ({job.error[:60] or 'no error'})",
        job.status in TERMINAL,
    )
    d.ui_truth(ca, job)
    if down:
        late, _ = d.terminal(down)
        d.notes.append(f"that run: {late.status}: {late.error[:100]}")
        d.check(
            "run enqueued while Redis was down is terminal", late.status in TERMINAL
        )
        d.ui_truth(cb, late)
        if late.status == "failed":
            r = cb.post(f"/api/v1/runs/{down}/retry/")
            d.check("its retry answered 202", r.status_code == 202)
            retry, _ = d.terminal(r.json()["id"], timeout=120)
            d.check(
                f"its retry through the restarted Redis {retry.status}",
                retry.status == "succeeded",
            )
            d.ui_truth(cb, retry)
    alive = sorted(n for n, p in d.procs.items() if p.poll() is None)
    d.notes.append(f"clusters alive after the Redis restart: {alive}")
    return {"outcome": f"training {job.status}", "terminal_s": took}


def _once() -> bool:
    """Each run's django-q task name ("<kind>-<id>") recorded at most once."""
    from django.db.models import Count
    from django_q.models import Task

    names = Task.objects.values("name").annotate(n=Count("id"))
    return not [row for row in names if row["n"] > 1 and "-" in row["name"]]


def child(name: str, items: int) -> int:
    from _common import setup_django

    os.environ.update(
        ALWEB_HEARTBEAT_STALE_SECONDS=str(STALE),
        ALWEB_ML_BACKEND="tests.runs.slow_backend",
        ALWEB_EXPORT_SYNC_MAX_ITEMS="5",
        ALWEB_DEMO="0",
        ALWEB_LOG_LEVEL="INFO",
    )
    var = setup_django(f"workers-{name}", sync=False)
    d = Drill(var)
    t0 = time.monotonic()
    result = {"scenario": name, "outcome": "error", "terminal_s": None}
    try:
        if name == "export":
            result.update(scenario_export(d, items))
        else:
            result.update((SCENARIO.get(name) or globals()[f"scenario_{name}"])(d))
        d.check("no run ran twice (one django-q task result per run)", _once())
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        d.check(f"{type(exc).__name__}: {exc}", False)
    finally:
        d.stop_all()
    result.update(
        checks=d.checks,
        notes=d.notes,
        wall_s=time.monotonic() - t0,
        var=str(var),
    )
    print("RESULT " + json.dumps(result))
    return 0


# --- parent side ------------------------------------------------------------------


def run_child(name: str, items: int, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--items", str(items)]
    try:
        out = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=600, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return {"scenario": name, "outcome": "drill timed out", "checks": []}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {
        "scenario": name,
        "outcome": f"crashed (exit {out.returncode}): {out.stderr[-500:]}",
        "checks": [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", action="store_true", help="add the Redis scenario")
    parser.add_argument("--only", default="", help="comma-separated scenarios")
    parser.add_argument("--items", type=int, default=20000, help="export items")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.items)

    names = [*SCENARIOS, *REDIS_SCENARIOS] if args.redis else list(SCENARIOS)
    if args.only:
        names = [n for n in args.only.split(",") if n]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALWEB_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    redis_dir = None
    results = []
    print(
        f"== drill_workers: {time.strftime('%Y-%m-%d %H:%M:%S')} | "
        f"{os.cpu_count()} cores | load {os.getloadavg()[0]:.2f} | "
        f"stale {STALE} s, reaper every {REAPER_EVERY} s, limit {LIMIT} s =="
    )
    try:
        for name in names:
            child_env = dict(env)
            if name in REDIS_SCENARIOS:
                if redis_dir is not None:
                    redis_stop(redis_dir / "redis")
                    shutil.rmtree(redis_dir, ignore_errors=True)
                redis_dir = Path(tempfile.mkdtemp(prefix="alweb-drill-redis-"))
                port = free_port()
                redis_start(redis_dir / "redis", port)
                child_env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
                child_env["ALWEB_REDIS_DIR"] = str(redis_dir / "redis")
            results.append(run_child(name, args.items, child_env))
    finally:
        if redis_dir is not None:
            redis_stop(redis_dir / "redis")
            shutil.rmtree(redis_dir, ignore_errors=True)
    failed = 0
    print(f"{'scenario':9s} {'terminal':>9s} {'wall':>6s}  outcome")
    for r in results:
        ok = r["checks"] and all(c[1] for c in r["checks"])
        failed += not ok
        t = r.get("terminal_s")
        print(
            f"{r['scenario']:9s} {(f'{t:.0f} s' if t is not None else '-'):>9s} "
            f"{r.get('wall_s', 0):5.0f}s  {'OK  ' if ok else 'FAIL'} {r['outcome']}"
        )
        for what, good in r["checks"]:
            print(f"    [{'x' if good else ' '}] {what}")
        for note in r.get("notes", []):
            print(f"    note: {note}")
        if not ok and r.get("var"):
            logs = sorted(Path(r["var"]).glob("qcluster-*.log"))
            print(f"    kept: {r['var']} (logs: {', '.join(p.name for p in logs)})")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
