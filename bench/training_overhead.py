"""Training overhead: alweb's training run against a plain ``YOLO.train``.

Builds a fresh project (temporary SQLite + media) with --images ground-truth
synthetic 320x240 images (seeded train/val/test split from the pipeline), then:

(a) plain: ``YOLO("yolov8n.yaml").train(...)`` on a dataset written by
    write_yolo_dataset from the same train+val items, with the settings
    backend.train passes (epochs, imgsz, batch, patience, optimizer, lr0,
    seed, workers=0, amp=False, plots=False, device=cpu); run twice, before
    and after (b), and the faster one is the reference;
(b) alweb: ``training_start`` in sync mode, which runs ``training_run``
    inline: dataset write, backend.train with progress callbacks and
    heartbeats, saving weights, evaluation of the candidate on the test
    items, comparison, promotion and the re-scoring that promotion triggers.

Prints both wall times, the overhead (target <= 10 %) with and without the
evaluation on the test split, and a break-down of (b).

Usage: .venv/bin/python bench/training_overhead.py [--images 64] [--epochs 3]
       [--imgsz 320]
"""

import argparse
import functools
import tempfile
import time
from pathlib import Path

from _common import add_ground_truth, header, make_project, setup_django

TARGET = 0.10


def wrap(module, name: str, times: dict, key=None) -> None:
    """Accumulate the wall time of module.name under key (or key(*a, **kw))."""
    fn = getattr(module, name)

    @functools.wraps(fn)
    def timed(*a, **kw):
        k = key(*a, **kw) if callable(key) else key or name
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            times[k] = times.get(k, 0.0) + time.perf_counter() - t0

    setattr(module, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()

    setup_django("training")
    from django.conf import settings

    from annotate import selectors_loop as data
    from annotate.models import Item
    from ml import config as ml_config
    from ml.datasets import write_yolo_dataset
    from models_mgmt.models import ModelVersion
    from models_mgmt.services import scoring, training
    from models_mgmt.services.backend import get_backend
    from runs.models import Job

    backend = get_backend()  # offline set-up before ultralytics is imported
    from ultralytics import YOLO

    header("training overhead")
    raw = {"architecture": "yolov8n.yaml", "epochs": args.epochs}
    raw |= {"imgsz": args.imgsz, "batch": args.batch}
    project, owner = make_project(raw, name="train-bench")
    cfg = ml_config.validate_model_config(raw)
    add_ground_truth(project, owner, args.images)
    split_of = dict(
        Item.objects.filter(project=project, split__in=["train", "val"]).values_list(
            "pk", "split"
        )
    )
    counts = {
        s: Item.objects.filter(project=project, split=s).count()
        for s in ("train", "val", "test")
    }
    print(
        f"{args.images} GT images, splits {counts}, epochs {args.epochs}, "
        f"imgsz {args.imgsz}, batch {args.batch}"
    )

    def plain(tag: str, epochs: int = cfg["epochs"]) -> float:
        out = Path(tempfile.mkdtemp(prefix=f"plain-{tag}-"))
        images = data.ground_truth_images(item_ids=list(split_of), split_of=split_of)
        yaml = write_yolo_dataset(
            images, list(project.labels), out / "dataset", splits=("train", "val")
        )
        t0 = time.perf_counter()
        YOLO("yolov8n.yaml").train(
            data=str(yaml),
            epochs=epochs,
            imgsz=cfg["imgsz"],
            batch=cfg["batch"],
            patience=cfg["patience"],
            optimizer=cfg["optimizer"],
            lr0=cfg["lr0"],
            seed=cfg["seed"],
            device="cpu",
            workers=0,
            amp=False,
            plots=False,
            verbose=False,
            project=str(out),
            name="train",
            exist_ok=True,
        )
        return time.perf_counter() - t0

    times: dict[str, float] = {}
    wrap(
        training,
        "ground_truth_images",
        times,
        lambda *a, split_of=None, **kw: (
            "eval: DB ground-truth rows"
            if set((split_of or {}).values()) == {"test"}
            else "DB: ground-truth rows"
        ),
    )
    wrap(
        training,
        "write_yolo_dataset",
        times,
        lambda *a, splits=(), **kw: (
            "eval: dataset write" if tuple(splits) == ("test",) else "dataset write"
        ),
    )
    wrap(backend, "train", times, "backend.train (ultralytics)")
    wrap(backend, "validate", times, "eval: backend.validate")
    wrap(training, "evaluate_on_test", times, "evaluation (total)")
    wrap(training, "run_heartbeat", times, "DB: heartbeats")
    wrap(scoring, "scoring_run", times, "re-score after promotion")
    orig_writer = training._progress_writer

    def timed_writer(*a, **kw):
        report = orig_writer(*a, **kw)

        def timed_report(progress):
            t0 = time.perf_counter()
            report(progress)
            key = "DB: progress callbacks"
            times[key] = times.get(key, 0.0) + time.perf_counter() - t0

        return timed_report

    training._progress_writer = timed_writer

    plain("warm-up", epochs=1)  # first train in a process pays one-off costs
    t_plain1 = plain("1")
    t0 = time.perf_counter()
    training.training_start(project=project, actor=owner)  # sync: runs inline
    t_alweb = time.perf_counter() - t0
    version = ModelVersion.objects.get(project=project, is_base=False)
    job = Job.objects.get(model_version_id=version.pk, kind="train")
    assert job.status == "succeeded", (job.error, version.error)
    t_plain2 = plain("2")
    t_ref = (t_plain1 + t_plain2) / 2

    t_eval = times.get("evaluation (total)", 0.0)
    t_rescore = times.get("re-score after promotion", 0.0)
    t_train = times.get("backend.train (ultralytics)", 0.0)
    print(
        f"\nplain YOLO.train : {t_plain1:.2f}s / {t_plain2:.2f}s "
        f"(reference = mean, {t_ref:.2f}s)"
    )
    print(
        f"alweb training_start+training_run (sync): {t_alweb:.2f}s "
        f"(version {version.name}, status {version.status}, "
        f"best={version.is_best})"
    )

    def line(label: str, t: float) -> None:
        over = t / t_ref - 1
        ok = "MET" if over <= TARGET else "NOT MET"
        print(
            f"  {label:44s} {t:7.2f}s  overhead {100 * over:+6.1f}%  "
            f"(target <= 10%: {ok})"
        )

    line("full alweb path", t_alweb)
    line("without evaluation on test", t_alweb - t_eval)
    line("without evaluation and promotion re-score", t_alweb - t_eval - t_rescore)
    line("backend.train alone (vs plain train)", t_train)
    print("break-down of the alweb path (s, share):")
    accounted = sum(
        v
        for k, v in times.items()
        if not k.startswith("eval:")
        and not k.startswith("DB: progress")
        and not k.startswith("DB: heartbeats")
    )
    rows = dict(times)
    rows["other (job/version rows, weights copy, compare)"] = t_alweb - accounted
    for key, v in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {key:48s} {v:7.2f}  {100 * v / t_alweb:5.1f}%")
    # Where evaluation time goes: backend.validate runs with plots=True (for
    # the confusion matrix) and so renders PNGs; time it warm, then with the
    # plotting stubbed out (the matrix is still filled).
    from ultralytics.models.yolo.detect.val import DetectionValidator
    from ultralytics.utils import metrics as ul_metrics

    yaml = next((Path(settings.VAR_DIR) / "runs").glob("eval-*/dataset/data.yaml"))
    weights = Path(version.weights.path)
    t0 = time.perf_counter()
    backend.validate(weights, yaml, split="test", imgsz=args.imgsz)
    t_val = time.perf_counter() - t0
    noop = lambda *a, **kw: None  # noqa: E731
    for owner_, name in [
        (ul_metrics.ConfusionMatrix, "plot"),
        (ul_metrics, "plot_pr_curve"),
        (ul_metrics, "plot_mc_curve"),
        (DetectionValidator, "plot_val_samples"),
        (DetectionValidator, "plot_predictions"),
    ]:
        setattr(owner_, name, noop)
    t0 = time.perf_counter()
    m = backend.validate(weights, yaml, split="test", imgsz=args.imgsz)
    t_noplot = time.perf_counter() - t0
    assert m["confusion_matrix"], "matrix must still be filled"
    print(
        f"backend.validate again (warm): {t_val:.2f}s; with plotting stubbed: "
        f"{t_noplot:.2f}s (saves {t_val - t_noplot:.2f}s per evaluation)"
    )
    print(
        "(eval: rows are inside 'evaluation (total)'; progress callbacks and "
        "heartbeats run inside backend.train)"
    )


if __name__ == "__main__":
    main()
