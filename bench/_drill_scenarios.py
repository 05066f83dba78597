"""More scenarios of bench/drill_workers.py (issue 15): a cluster started while
Redis is down, a long Redis outage, one worker process killed inside a cluster,
and the housekeeping (reaper's) cluster killed while a run is stuck."""

import os
import signal
import time
from pathlib import Path

from _drill_harness import (
    LIMIT,
    Drill,
    api_client,
    drill_project,
    hold,
    killed_then_retried,
    redis_start,
    redis_stop,
    train_once,
)

SERVE = 30  # after the broker is back, a cluster serves a new run within this


def _redis() -> tuple[Path, int]:
    port = int(os.environ["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    return Path(os.environ["ALWEB_REDIS_DIR"]), port


def _export(d: Drill, client, project, what: str) -> tuple[object, float]:
    """Request a background export; (its run once terminal, seconds to it)."""
    t0 = time.monotonic()
    r = client.get(f"/api/v1/projects/{project.pk}/export/", {"format": "yolo"})
    d.check(f"{what}: export answered 202", r.status_code == 202)
    job, _ = d.terminal(r.json()["job"], timeout=120)
    took = time.monotonic() - t0
    d.check(
        f"{what}: export {job.status} in {took:.1f} s <= {SERVE} s",
        job.status == "succeeded" and took <= SERVE,
    )
    d.ui_truth(client, job)
    return job, took


def _alive(d: Drill) -> list[str]:
    return sorted(n for n, p in d.procs.items() if p.poll() is None)


def scenario_redis_boot(d: Drill) -> dict:
    """The work cluster is started while Redis is down (as a cluster started,
    or restarted by its supervisor, during a broker outage); Redis comes back:
    the cluster serves the next export within SERVE s."""
    folder, port = _redis()
    b, owner, _ = drill_project("b", pool=10)
    client = api_client(owner)
    d.start("alweb", "training")
    d.wait(lambda: d.running("alweb") and d.running("training"), 120, "clusters up")
    redis_stop(folder, hard=True)
    d.start("work")
    d.wait(
        lambda: "Connection refused" in d.log("work") or "work" not in _alive(d),
        120,
        "the work cluster to try the broker",
    )
    time.sleep(2)
    alive = _alive(d)
    d.notes.append(f"clusters alive with Redis down: {alive}")
    redis_start(folder, port)
    _, took = _export(d, client, b, "after the restart")
    d.check("every cluster alive after the outage", _alive(d) == sorted(d.procs))
    return {"outcome": f"export served {took:.0f} s after Redis came back",
            "terminal_s": took}  # fmt: skip


def scenario_redis_long(d: Drill) -> dict:
    """Redis SIGKILLed mid-training and kept down OUTAGE s (longer than the
    pusher's 10 s sleep and any reconnection backoff); then restarted: the
    training ends, every cluster is alive and serves a new export and a new
    training within SERVE s."""
    from runs.models import Job

    outage = float(os.environ.get("DRILL_OUTAGE_S", "75"))
    folder, port = _redis()
    a, owner_a, _ = drill_project("a")
    b, owner_b, _ = drill_project("b", pool=10)
    ca, cb = api_client(owner_a), api_client(owner_b)
    hold(d.var, "training", True)
    d.start("alweb", "training", "work")
    _, job_id = train_once(d, ca, a)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    redis_stop(folder, hard=True)
    time.sleep(outage)
    d.notes.append(f"Redis down {outage:.0f} s; clusters alive: {_alive(d)}")
    redis_start(folder, port)
    t0 = time.monotonic()
    hold(d.var, "training", False)
    job, _ = d.terminal(job_id)
    took = time.monotonic() - t0
    d.check(
        f"training {job.status} ({job.error[:60] or 'no error'})",
        job.status == "succeeded",
    )
    d.ui_truth(ca, job)
    _export(d, cb, b, "after the outage")
    t0 = time.monotonic()
    r = cb.post(f"/api/v1/projects/{b.pk}/train/")
    d.check("training after the outage answered 202", r.status_code == 202)
    second = Job.objects.get(model_version_id=r.json()["model_version"], kind="train")
    second, _ = d.terminal(second.pk, timeout=120)
    took2 = time.monotonic() - t0
    d.check(
        f"training after the outage {second.status} in {took2:.1f} s",
        second.status == "succeeded",
    )
    d.check("every cluster alive after the outage", _alive(d) == sorted(d.procs))
    d.check(
        "no run failed for want of the broker",
        not Job.objects.filter(error__startswith="could not send").exists(),
    )
    return {
        "outcome": f"training {job.status} after the restart; export and "
        f"training served after ({took2:.0f} s)",
        "terminal_s": took,
    }


def _worker_of(d: Drill, name: str, task: str) -> int:
    """The pid of cluster `name`'s worker process running django-q task `task`
    (its log: "Process-<id> ready for work at <pid>", "Process-<id> processing
    <task> ...")."""
    import re

    def find():
        log = d.log(name)
        got = re.search(rf"(Process-\w+) processing {re.escape(task)} ", log)
        if not got:
            return None
        pid = re.search(rf"{got.group(1)} ready for work at (\d+)", log)
        return int(pid.group(1)) if pid else None

    return d.wait(find, 60, f"the worker processing {task}")


def scenario_worker(d: Drill) -> dict:
    """SIGKILL the one worker process running the training (not its cluster's
    sentinel, pusher or monitor): the sentinel reincarnates the worker, the run
    is failed by the reaper within LIMIT s and its retry succeeds on the same
    cluster (not restarted); then the same mid-scoring (the promotion's
    re-score) on the work cluster."""
    from runs.models import Job

    project, owner, _ = drill_project("worker", pool=20)
    client = api_client(owner)
    hold(d.var, "training", True)
    hold(d.var, "scoring", True)
    d.start("alweb", "training", "work")
    _, job_id = train_once(d, client, project)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    os.kill(_worker_of(d, "training", f"train-{job_id}"), signal.SIGKILL)
    hold(d.var, "training", False)
    took = killed_then_retried(d, client, job_id, None)
    d.check(
        "the training cluster reincarnated its worker",
        "reincarnated worker" in d.log("training"),
    )
    score = d.wait(
        lambda: Job.objects.filter(
            project=project, kind="score", status="running"
        ).first(),
        60,
        "the promotion's scoring run to start",
    )
    d.wait(lambda: (d.var / "scoring-started").exists(), 60, "scoring to start")
    os.kill(_worker_of(d, "work", f"score-{score.pk}"), signal.SIGKILL)
    hold(d.var, "scoring", False)
    took2 = killed_then_retried(d, client, score.pk, None)
    d.check(
        "the work cluster reincarnated its worker",
        "reincarnated worker" in d.log("work"),
    )
    d.check("every cluster alive", _alive(d) == sorted(d.procs))
    return {
        "outcome": f"reaped in {took:.0f} s (training) and {took2:.0f} s "
        "(scoring); retries succeeded on the same clusters",
        "terminal_s": max(took, took2),
    }


def scenario_housekeeping(d: Drill) -> dict:
    """A run stuck (its training cluster SIGKILLed) while the housekeeping
    cluster, the reaper's own, is SIGKILLed too; restart the housekeeping
    cluster: the stuck run is reaped within LIMIT s of the restart."""
    from runs.models import Job

    project, owner, _ = drill_project("hk")
    client = api_client(owner)
    hold(d.var, "training", True)
    d.start("alweb", "training")
    _, job_id = train_once(d, client, project)
    d.wait(lambda: (d.var / "training-started").exists(), 120, "training to start")
    d.kill("alweb")
    d.kill("training")
    hold(d.var, "training", False)
    time.sleep(LIMIT / 2)
    state = Job.objects.get(pk=job_id).status
    d.check(
        f"without the housekeeping cluster the dead run stays {state}",
        state == "running",
    )
    t0 = time.monotonic()
    d.start("alweb")
    job, _ = d.terminal(job_id)
    took = time.monotonic() - t0
    d.check(
        f"reaped {took:.0f} s after the housekeeping restart (<= {LIMIT} s)",
        job.status == "failed" and "heartbeat" in job.error and took <= LIMIT,
    )
    d.ui_truth(client, job)
    d.start("training")
    r = client.post(f"/api/v1/runs/{job_id}/retry/")
    d.check("retry answered 202", r.status_code == 202)
    retry, _ = d.terminal(r.json()["id"], timeout=120)
    d.check(f"retry {retry.status}", retry.status == "succeeded")
    return {"outcome": "reaped after the restart, retry succeeded",
            "terminal_s": took}  # fmt: skip
