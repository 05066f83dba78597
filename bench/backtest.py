"""Backtest of the selection strategies on the benchmark set (bench/al_data.py).

Generates the set if missing, pretrains a base model on the *generic* shapes
once (cached in OUT/base.pt), then runs ml.backtest with real ultralytics on
the CPU: for each seed the same random initial images, then rounds of train ->
evaluate on the 400 test images -> score the pool -> select a batch.

Prints the summary table (final mAP, AUC, labels needed to reach random's final
mAP, worst paired round with its 95 % CI) and writes OUT/curves.csv,
OUT/curves.png and OUT/summary.md.

Usage: .venv/bin/python bench/backtest.py [--out bench/out/backtest]
       [--strategies random,entropy,hybrid] [--seeds 5] [--rounds 6]
       [--initial 50] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YOLO_VERBOSE", "False")  # no per-batch progress bars

from ml.backtest import BacktestConfig, StrategySpec, run_backtest  # noqa: E402
from ml.backtest_report import (  # noqa: E402
    efficiency,
    mean_curves,
    paired_differences,
    plot,
    summary_table,
)
from ml.coco_read import read_coco  # noqa: E402

PRESETS = {
    "random": StrategySpec("random"),
    "entropy": StrategySpec("entropy"),
    "entropy_mean": StrategySpec("entropy", {"aggregate": "mean"}, "entropy_mean"),
    "least_confidence": StrategySpec("least_confidence"),
    "margin": StrategySpec("margin"),
    "entropy_dedup": StrategySpec("entropy", {"dedup": 0.05}, "entropy_dedup"),
    "diversity": StrategySpec("diversity"),
    "committee": StrategySpec("committee"),
    "stability": StrategySpec("stability"),
    "hybrid": StrategySpec("hybrid"),  # the defaults: rare_boost 1.0 since 2026-12-01
    "hybrid_plain": StrategySpec("hybrid", {"rare_boost": 0.0}, "hybrid_plain"),
    "hybrid_rare": StrategySpec("hybrid", {"rare_boost": 1.0}, "hybrid_rare"),
    "hybrid_warm": StrategySpec(
        "hybrid", {"rare_boost": 1.0, "warmup": 150}, "hybrid_warm"
    ),
    "hybrid_rare_a3": StrategySpec(
        "hybrid", {"rare_boost": 1.0, "alpha": 0.3}, "hybrid_rare_a3"
    ),
    "hybrid_rare_a7": StrategySpec(
        "hybrid", {"rare_boost": 1.0, "alpha": 0.7}, "hybrid_rare_a7"
    ),
    "hybrid_rare_d15": StrategySpec(
        "hybrid", {"rare_boost": 1.0, "dedup": 0.15}, "hybrid_rare_d15"
    ),
    "hybrid_rare2_d15": StrategySpec(
        "hybrid", {"rare_boost": 2.0, "dedup": 0.15}, "hybrid_rare2_d15"
    ),
    "hybrid_rare_cov": StrategySpec(
        "hybrid", {"rare_boost": 1.0, "coverage": 0.4}, "hybrid_rare_cov"
    ),
    "hybrid_rare_explore": StrategySpec(
        "hybrid",
        {"rare_boost": 1.0, "coverage": 0.3, "coverage_by": "random"},
        "hybrid_rare_explore",
    ),
    "hybrid_rare2": StrategySpec("hybrid", {"rare_boost": 2.0}, "hybrid_rare2"),
    "entropy_rare": StrategySpec(
        "entropy", {"rare_boost": 1.0, "dedup": 0.05}, "entropy_rare"
    ),
    "hybrid_lc": StrategySpec(
        "hybrid", {"method": "least_confidence", "aggregate": "mean"}, "hybrid_lc"
    ),
}


def pretrain(backend, out: Path, generic: Path, epochs: int, imgsz: int) -> Path:
    base = out / "base.pt"
    if base.exists():
        return base
    from ml.datasets import write_yolo_dataset

    names, images, _ = read_coco(generic / "annotations.json", generic / "images")
    n_val = len(images) // 10
    images = [
        type(i)(i.path, i.width, i.height, i.shapes, "val" if k < n_val else "train")
        for k, i in enumerate(images)
    ]
    data = write_yolo_dataset(images, names, out / "generic-dataset")
    t0 = time.monotonic()
    result = backend.train(
        data,
        "yolov8n.yaml",
        out / "pretrain",
        {"epochs": epochs, "imgsz": imgsz, "batch": 16, "patience": 0,
         "optimizer": "auto", "lr0": 0.01, "device": "cpu", "seed": 0, "val": False},
    )  # fmt: skip
    base.write_bytes(Path(result.weights_path).read_bytes())
    print(
        f"pretrained base on {len(images)} generic images, {epochs} epochs: "
        f"{time.monotonic() - t0:.0f} s, val mAP50-95 "
        f"{result.metrics.get('map50_95', 0):.3f}",
        flush=True,
    )
    return base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/backtest")
    ap.add_argument("--strategies", default="random,entropy,hybrid")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--initial", type=int, default=50)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--budget", type=int, default=1500, help="images seen per round")
    ap.add_argument("--pretrain-epochs", type=int, default=30)
    ap.add_argument("--imgsz", type=int, default=160)
    ap.add_argument("--pool", type=int, default=1200)
    ap.add_argument("--test", type=int, default=400)
    ap.add_argument("--no-warm-start", action="store_true")
    ap.add_argument(
        "--cold-start",
        default="",
        help="compare initial selections instead (e.g. random,typicality,diversity):"
        " train once on each initial set per seed and report its mAP",
    )
    args = ap.parse_args()

    from ml.backends import ultralytics as backend

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    backend.setup_offline(out / "yolo-config")
    data = out / "data"
    if not (data / "pool/annotations.json").exists():
        from al_data import generate

        generate(data / "pool", args.pool, 1)
        generate(data / "test", args.test, 2)
        generate(data / "generic", 600, 3, generic=True)
    names, pool, tags = read_coco(data / "pool/annotations.json", data / "pool/images")
    _, test, _ = read_coco(data / "test/annotations.json", data / "test/images")
    base = pretrain(backend, out, data / "generic", args.pretrain_epochs, args.imgsz)
    if args.cold_start:
        return cold_start(args, backend, out, names, pool, test, base)
    specs = [PRESETS[s] for s in args.strategies.split(",")]
    config = BacktestConfig(
        initial=args.initial,
        batch=args.batch,
        rounds=args.rounds,
        seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
        base=base,
        epoch_budget=args.budget,
        warm_start=not args.no_warm_start,
        imgsz=args.imgsz,
        train={"val": False},
    )
    t0 = time.monotonic()
    last = [0.0]

    def progress(frac: float, msg: str) -> None:
        if time.monotonic() - last[0] > 30 or frac >= 1:
            last[0] = time.monotonic()
            print(f"[{time.monotonic() - t0:6.0f} s] {frac:5.1%} {msg}", flush=True)

    result = run_backtest(
        pool, test, names, specs, backend, out / "runs", config, progress
    )
    wall = time.monotonic() - t0
    result.write_csv(out / "curves.csv")
    plot(result, out / "curves.png", f"{len(pool)}-image pool, {args.seeds} seeds")
    table = summary_table(result)
    curves = mean_curves(result)
    lines = [table, ""]
    for spec in specs:
        if spec.label == "random" or "random" not in curves:
            continue
        eff = efficiency(curves, spec.label)
        diffs = paired_differences(result, spec.label)
        lines.append(
            f"{spec.label}: images share {eff['images_share']}, boxes share "
            f"{eff['boxes_share']}; paired diff per round: "
            + ", ".join(
                f"r{d.round} {d.mean:+.4f} [{d.low:+.4f},{d.high:+.4f}]" for d in diffs
            )
        )
    hard = sum(1 for t in tags if not t.startswith("easy"))
    lines.append(
        f"\npool {len(pool)} ({hard} hard), test {len(test)}, "
        f"wall {wall / 60:.1f} min, cpus {os.cpu_count()}"
    )
    text = "\n".join(lines)
    (out / "summary.md").write_text(text + "\n")
    print(text)


def cold_start(args, backend, out, names, pool, test, base) -> None:
    """Round 0 only, once per initial-selection strategy and seed."""
    import statistics
    from dataclasses import replace

    rows = {}
    for name in args.cold_start.split(","):
        config = BacktestConfig(
            initial=args.initial,
            batch=args.batch,
            rounds=0,
            seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
            base=base,
            epoch_budget=args.budget,
            imgsz=args.imgsz,
            train={"val": False},
        )
        config = replace(config, initial_strategy=name)
        result = run_backtest(
            pool, test, names, [StrategySpec("random")], backend,
            out / f"cold-{name}", config,
        )  # fmt: skip
        vals = [r.map50_95 for r in result.rounds]
        boxes = [r.boxes for r in result.rounds]
        rows[name] = vals
        print(
            f"cold start {name:11s}: {args.initial} images, mean boxes "
            f"{statistics.mean(boxes):.0f}, mAP50-95 {statistics.mean(vals):.4f} "
            f"(per seed {', '.join(f'{v:.4f}' for v in vals)})",
            flush=True,
        )
    (out / "cold_start.txt").write_text(
        "\n".join(f"{k} {' '.join(f'{v:.5f}' for v in vs)}" for k, vs in rows.items())
        + "\n"
    )


if __name__ == "__main__":
    main()
