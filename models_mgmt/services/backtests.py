"""Backtests on a project's own ground truth, as background runs (Job kind
backtest on the training queue): the known labels are the oracle (ml.backtest).

The pool is the approved train and val items, the test set the approved test
items (the frozen test split every version is judged on). Results go to
VAR_DIR/backtests/<run id>/: curves.csv, curves.svg and summary.md, and the
run's result holds the mean curves and the label efficiency for the pages.
"""

import logging
import math
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from annotate.models import Project
from annotate.selectors_loop import ground_truth_images, item_ids_in_split
from ml import backtest_report as report
from ml import config as ml_config
from ml.backtest import BacktestConfig, StrategySpec, run_backtest
from ml.selection import STRATEGIES
from models_mgmt.selectors import (
    base_model_newest,
    default_architecture,
    training_settings_get,
)
from models_mgmt.services.backend import get_backend
from runs import queues
from runs.models import Job, JobKind
from runs.services import (
    run_create,
    run_enqueue,
    run_execute,
    run_heartbeat_or_stop,
)

logger = logging.getLogger(__name__)

LIMITS = {"initial": (2, 10_000), "batch": (1, 10_000), "rounds": (1, 20),
          "seeds": (1, 10)}  # fmt: skip


def backtest_dir(job_id: int) -> Path:
    return Path(settings.VAR_DIR) / "backtests" / str(job_id)


def backtest_defaults(*, project: Project) -> dict:
    """Sizes that fit the project's ground truth: about a fifth of the pool to
    start, a tenth per round, 3 rounds, 2 seeds."""
    pool = len(item_ids_in_split(project=project, split="train")) + len(
        item_ids_in_split(project=project, split="val")
    )
    initial = max(2, pool // 5)
    batch = max(1, pool // 10)
    return {
        "strategies": ["random", "hybrid"],
        "initial": initial,
        "batch": batch,
        "rounds": 3,
        "seeds": 2,
    }


def backtest_clean(*, project: Project, data: dict) -> dict:
    """Validate a backtest request; returns the params. Raises ValidationError
    naming the field:
    strategies from the registry (random always included as the control),
    sizes within bounds and within the project's ground truth."""
    out = {**backtest_defaults(project=project), **(data or {})}
    errors = {}
    strategies = out["strategies"]
    if isinstance(strategies, str):
        strategies = [s.strip() for s in strategies.split(",") if s.strip()]
    if not isinstance(strategies, list) or not strategies:
        errors["strategies"] = "a list of strategy names"
    else:
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            errors["strategies"] = (
                f"unknown: {', '.join(map(str, unknown))}; one of "
                + ", ".join(STRATEGIES)
            )
        strategies = ["random"] + [
            s for s in dict.fromkeys(strategies) if s != "random"
        ]
    for key, (lo, hi) in LIMITS.items():
        value = out[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not lo <= value <= hi
        ):
            errors[key] = f"an integer from {lo} to {hi}"
    if not errors:
        pool = len(item_ids_in_split(project=project, split="train")) + len(
            item_ids_in_split(project=project, split="val")
        )
        need = out["initial"] + out["batch"] * out["rounds"]
        if pool < need:
            errors["initial"] = (
                f"initial + batch x rounds = {need}, but only {pool} approved "
                "train and val items exist"
            )
        if not item_ids_in_split(project=project, split="test"):
            errors["non_field_errors"] = "no approved test items to judge on yet"
    if errors:
        raise ValidationError(errors)
    return {**out, "strategies": strategies}


def backtest_start(*, project: Project, actor, data: dict | None = None) -> Job:
    """Queue a backtest run on the training queue. Raises ValidationError for bad
    input, Conflict while another backtest of the project is active."""
    params = backtest_clean(project=project, data=data or {})
    job = run_create(
        project=project,
        kind=JobKind.BACKTEST,
        task="models_mgmt.tasks.run_backtest",
        queue=queues.TRAINING,
        actor=actor,
        params=params,
    )
    run_enqueue(job=job)
    return job


def _images(project: Project, splits: tuple[str, ...]):
    ids = [i for s in splits for i in item_ids_in_split(project=project, split=s)]
    return ground_truth_images(item_ids=ids, split_of={i: "train" for i in ids})


def backtest_run(job_id: int) -> None:
    """Worker side: run the backtest, store its files and summary, end the run
    succeeded or failed (a cancelled run stops at its next progress report)."""
    out = backtest_dir(job_id)

    def work(job: Job) -> dict:
        shutil.rmtree(out, ignore_errors=True)
        return _run(job, out)

    run_execute(
        job_id,
        work,
        name="backtest",
        cleanup=lambda: shutil.rmtree(out, ignore_errors=True),
    )


def _run(job: Job, out: Path) -> dict:
    project, params = job.project, job.params
    cfg = ml_config.validate_model_config(
        training_settings_get(project=project).model_config or {}
    )
    base_version = base_model_newest(project=project)
    if base_version is not None and base_version.weights:
        base = Path(base_version.weights.path)
    else:
        base = (
            cfg["architecture"]
            if "architecture"
            in (training_settings_get(project=project).model_config or {})
            else default_architecture(project=project)
        )
    config = BacktestConfig(
        initial=params["initial"],
        batch=params["batch"],
        rounds=params["rounds"],
        seeds=tuple(range(params["seeds"])),
        base=base,
        epoch_budget=cfg["epoch_budget"],
        min_epochs=min(cfg["min_epochs"], 5),
        max_epochs=cfg["max_epochs"],
        imgsz=cfg["imgsz"],
        conf=min(cfg["conf"], 0.01),
        train={"val": False, "device": cfg["device"]},
    )
    names = list(project.labels)

    def progress(fraction: float, message: str) -> None:
        run_heartbeat_or_stop(job.pk, progress=0.95 * fraction, message=message)

    result = run_backtest(
        _images(project, ("train", "val")),
        _images(project, ("test",)),
        names,
        [StrategySpec(s) for s in params["strategies"]],
        get_backend(),
        out / "runs",
        config,
        progress,
    )
    shutil.rmtree(out / "runs", ignore_errors=True)  # datasets and weights
    result.write_csv(out / "curves.csv")
    report.plot(result, out / "curves.svg", f"{project.name}: backtest")
    table = report.summary_table(result)
    (out / "summary.md").write_text(table + "\n")
    curves = report.mean_curves(result)
    summary = {}
    for name, curve in curves.items():
        row = {
            "final_map50_95": curve[-1].map50_95,
            "auc": report.auc(curve),
            "curve": [
                {
                    "images": p.images,
                    "boxes": p.boxes,
                    "map50_95": p.map50_95,
                    "sd": p.map50_95_sd,
                }
                for p in curve
            ],  # fmt: skip
        }
        if name != "random":
            row["efficiency"] = report.efficiency(curves, name)
            row["paired"] = [
                {"round": d.round, "mean": d.mean, "low": d.low, "high": d.high}
                for d in report.paired_differences(result, name)
            ]
        summary[name] = _finite(row)
    return {"dir": str(out), "strategies": summary, "table": table}


def _finite(value):
    """JSON-safe: infinities and NaN (one seed has no confidence interval)
    become None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
