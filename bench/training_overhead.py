"""Training overhead: alweb's training runs against plain ultralytics.

Builds a fresh project (temporary SQLite + media) with --images ground-truth
demo images (320x240, seeded train/val/test split from the pipeline). The
comparison config's quality gate is opened (``min_score`` 0, ``min_test_items``
1), so that a 3-epoch first version evaluated on a handful of test items is
promoted and the second is fine-tuned from it (the parent is the best model);
nothing else is changed.

First version:
(a) plain: ``YOLO("yolov8n.yaml").train(...)`` on a dataset written by
    write_yolo_dataset from the same train+val items, with the settings
    backend.train passes (epochs, imgsz, batch, patience, optimizer, lr0,
    seed, workers=0, amp=False, plots=False, device=cpu); run before and
    after (b), the mean is the reference;
(b) alweb: ``training_start`` in sync mode, which runs ``training_run``
    inline: dataset write, backend.train with progress callbacks and
    heartbeats, saving weights, evaluation of the candidate on the test
    items, comparison, promotion and the re-scoring promotion triggers (the
    pool is empty here).

Then --pool unlabelled items are added and scored by the first version
(untimed), and the second version is measured:
(c) plain, two references, each run before and after (d), mean used:
    "train+val": ``YOLO(v1.pt).train(...)`` (same settings, --epochs2) then
    ``YOLO(best.pt).val(split="test")``;
    "same work": that, plus ``YOLO(v1.pt).val(split="test")`` (the incumbent)
    and ``YOLO(best.pt).predict`` over the pool (batch 16, the scoring conf).
(d) alweb: ``training_start`` again: fine-tuned from v1's weights, the
    candidate and the incumbent evaluated on the test items, comparison,
    promotion, and the --pool items re-scored by the new best model (the real
    scoring service: predictions, class scores, embeddings, uncertainty, DB
    writes, priorities).

Prints the wall times, the overhead against each reference (target <= 10 %)
and a break-down of the alweb paths.

Usage: .venv/bin/python bench/training_overhead.py [--images 64] [--epochs 3]
       [--epochs2 3] [--pool 1000] [--imgsz 320] [--batch 16]
"""

import argparse
import functools
import tempfile
import time
from pathlib import Path

from _common import add_ground_truth, add_items, header, make_project, setup_django

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
    ap.add_argument("--epochs2", type=int, default=3, help="second version's epochs")
    ap.add_argument("--pool", type=int, default=1000, help="items re-scored by v2")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()

    setup_django("training")

    from annotate import selectors_loop as data
    from annotate.models import Item, ItemStatus
    from ml import config as ml_config
    from ml.datasets import write_yolo_dataset
    from models_mgmt.models import Comparison, ModelVersion
    from models_mgmt.services import scoring, training
    from models_mgmt.services.backend import get_backend
    from models_mgmt.services.pipeline import pipeline_update
    from models_mgmt.services.versions import model_version_promote
    from runs.models import Job

    backend = get_backend()  # offline set-up before ultralytics is imported
    from ultralytics import YOLO

    header("training overhead")
    raw = {"architecture": "yolov8n.yaml", "epochs": args.epochs}
    raw |= {"imgsz": args.imgsz, "batch": args.batch}
    project, owner = make_project(raw, name="train-bench")
    pipeline_update(
        project=project,
        actor=owner,
        data={"comparison_config": {"min_score": 0.0, "min_test_items": 1}},
    )
    cfg = ml_config.validate_model_config(raw)
    add_ground_truth(project, owner, args.images)
    split_of = dict(
        Item.objects.filter(
            project=project, split__in=["train", "val", "test"]
        ).values_list("pk", "split")
    )
    counts = {
        s: Item.objects.filter(project=project, split=s).count()
        for s in ("train", "val", "test")
    }
    print(
        f"{args.images} GT images of 320x240, splits {counts}, epochs "
        f"{args.epochs} then {args.epochs2}, imgsz {args.imgsz}, batch {args.batch}"
    )
    dataset_dir = Path(tempfile.mkdtemp(prefix="plain-dataset-"))
    images = data.ground_truth_images(item_ids=list(split_of), split_of=split_of)
    yaml = write_yolo_dataset(images, list(project.labels), dataset_dir / "d")

    def plain_train(tag: str, source, epochs: int) -> tuple[float, Path]:
        out = Path(tempfile.mkdtemp(prefix=f"plain-{tag}-"))
        t0 = time.perf_counter()
        YOLO(str(source)).train(
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
        return time.perf_counter() - t0, out / "train" / "weights" / "best.pt"

    def plain_val(weights: Path) -> float:
        t0 = time.perf_counter()
        YOLO(str(weights)).val(
            data=str(yaml), split="test", imgsz=cfg["imgsz"], batch=16, device="cpu",
            workers=0, plots=False, verbose=False,
            project=tempfile.mkdtemp(prefix="plain-val-"), name="val",
        )  # fmt: skip
        return time.perf_counter() - t0

    def plain_predict(weights: Path, paths: list[str]) -> float:
        opts = dict(imgsz=cfg["imgsz"], conf=cfg["conf"], iou=cfg["iou"])
        opts |= dict(device="cpu", verbose=False)
        yolo = YOLO(str(weights))
        t0 = time.perf_counter()
        for s in range(0, len(paths), 16):
            for _ in yolo.predict(paths[s : s + 16], stream=True, batch=16, **opts):
                pass
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
    wrap(training, "ground_truth_by_item", times, "eval: DB ground-truth rows")
    wrap(
        training,
        "evaluation_errors_analyse",
        times,
        "eval: error analysis (predictions, rows)",
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
    wrap(
        training,
        "evaluate_on_test",
        times,
        lambda version, *a, **kw: f"evaluation of {version.name} (total)",
    )
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

    def alweb_version() -> tuple[float, ModelVersion, dict]:
        times.clear()
        t0 = time.perf_counter()
        v = training.training_start(project=project, actor=owner)  # sync: inline
        dt = time.perf_counter() - t0
        v = ModelVersion.objects.get(pk=v.pk)
        job = Job.objects.get(model_version_id=v.pk, kind="train")
        assert job.status == "succeeded", (job.error, v.error)
        return dt, v, dict(times)

    def report(label: str, t: float, t_ref: float) -> None:
        over = t / t_ref - 1
        ok = "MET" if over <= TARGET else "NOT MET"
        print(
            f"  {label:52s} {t:7.2f}s  overhead {100 * over:+6.1f}%  "
            f"(target <= 10%: {ok})"
        )

    def breakdown(t_alweb: float, rows: dict) -> None:
        print("  break-down of the alweb path (s, share):")
        accounted = sum(
            v
            for k, v in rows.items()
            if not k.startswith("eval:")
            and not k.startswith("DB: progress")
            and not k.startswith("DB: heartbeats")
        )
        rows = dict(rows)
        rows["other (job/version rows, weights copy, compare)"] = t_alweb - accounted
        for key, v in sorted(rows.items(), key=lambda kv: -kv[1]):
            print(f"    {key:50s} {v:7.2f}  {100 * v / t_alweb:5.1f}%")

    # ---- first version ----
    plain_train("warm-up", "yolov8n.yaml", 1)  # first train pays one-off costs
    t_p1a, _ = plain_train("v1a", "yolov8n.yaml", args.epochs)
    t_v1, v1, rows1 = alweb_version()
    t_p1b, _ = plain_train("v1b", "yolov8n.yaml", args.epochs)
    ref1 = (t_p1a + t_p1b) / 2
    print(f"\n== first version (from scratch, {args.epochs} epochs) ==")
    print(f"plain YOLO.train: {t_p1a:.2f}s / {t_p1b:.2f}s (mean {ref1:.2f}s)")
    print(
        f"alweb: {t_v1:.2f}s ({v1.name}, {v1.status}, best={v1.is_best}, "
        f"map50_95 {v1.metrics.get('map50_95', 0):.4f})"
    )
    report("full alweb path", t_v1, ref1)
    t_eval1 = rows1.get("evaluation of v1 (total)", 0.0)
    report("without evaluation on test", t_v1 - t_eval1, ref1)
    t_train1 = rows1["backend.train (ultralytics)"]
    report("backend.train alone (vs plain train)", t_train1, ref1)
    breakdown(t_v1, rows1)
    assert v1.is_best, "the first version must be promoted for a fine-tuned second"

    # ---- second version ----
    add_items(project, args.pool, start_seed=500_000)
    scoring.scoring_request(project=project)  # untimed: the pool scored by v1
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    paths = [it.file.path for it in pool.order_by("id")]
    assert pool.filter(scored_by=v1.pk).count() == args.pool
    v1_weights = Path(v1.weights.path)
    if args.epochs2 != args.epochs:
        pipeline_update(
            project=project, actor=owner,
            data={"model_config": {**raw, "epochs": args.epochs2}},
        )  # fmt: skip

    def plain_v2(tag: str) -> tuple[float, float]:
        t_train, best = plain_train(tag, v1_weights, args.epochs2)
        t_val = plain_val(best)
        t_inc = plain_val(v1_weights)
        t_pred = plain_predict(best, paths)
        print(
            f"  [plain {tag}] train {t_train:.2f}s, val {t_val:.2f}s, incumbent "
            f"val {t_inc:.2f}s, predict {len(paths)} {t_pred:.2f}s"
        )
        return t_train + t_val, t_train + t_val + t_inc + t_pred

    a1, b1 = plain_v2("v2a")
    t_v2, v2, rows2 = alweb_version()
    comp = Comparison.objects.get(candidate=v2)
    if not comp.promoted:
        # Equal metrics keep the incumbent, so no re-score ran: promote by hand
        # (the manager's Promote, the same service) and time its re-score too.
        print(f"NOTE: {v2.name} was not promoted ({comp.reason}); promoted by hand")
        t0 = time.perf_counter()
        model_version_promote(version=v2, actor=owner, reason="manual")
        t_manual = time.perf_counter() - t0
        t_v2 += t_manual
        rows2["re-score after manual promotion"] = t_manual
    a2, b2 = plain_v2("v2b")
    ref_a, ref_b = (a1 + a2) / 2, (b1 + b2) / 2
    rescored = pool.filter(scored_by=v2.pk).count()
    print(f"\n== second version (fine-tuned from {v1.name}, {args.epochs2} epochs) ==")
    print(
        f"alweb: {t_v2:.2f}s ({v2.name}, parent {v2.parent.name if v2.parent else None}"
        f", {v2.status}, map50_95 {v2.metrics.get('map50_95', 0):.4f} vs incumbent "
        f"{comp.incumbent_value}; promoted {comp.promoted}: {comp.reason}); "
        f"pool items re-scored by {v2.name}: {rescored} of {args.pool}"
    )
    print(f"plain train+val: {a1:.2f}s / {a2:.2f}s (mean {ref_a:.2f}s)")
    print(
        f"plain same work (train+val+incumbent val+predict pool): {b1:.2f}s / "
        f"{b2:.2f}s (mean {ref_b:.2f}s)"
    )
    report("full alweb path vs plain train+val", t_v2, ref_a)
    report("full alweb path vs plain same work", t_v2, ref_b)
    t_cand = rows2.get(f"evaluation of {v2.name} (total)", 0.0)
    t_inc = rows2.get(f"evaluation of {v1.name} (total)", 0.0)
    t_resc = rows2.get("re-score after promotion", 0.0) or rows2.get(
        "re-score after manual promotion", 0.0
    )
    report("without incumbent eval and re-score vs train+val", t_v2 - t_resc
           - t_inc, ref_a)  # fmt: skip
    print(
        f"  (evaluation: candidate {t_cand:.2f}s, incumbent {t_inc:.2f}s; "
        f"re-score {t_resc:.2f}s)"
    )
    breakdown(t_v2, rows2)
    assert v2.parent_id == v1.pk
    print(
        "(eval: rows are inside 'evaluation of ... (total)'; progress "
        "callbacks and heartbeats run inside backend.train)"
    )


if __name__ == "__main__":
    main()
