"""Backtest selection strategies on a labelled COCO file (the labels as oracle).

    python manage.py backtest --coco annotations.json --images DIR \\
        --strategies random,entropy,hybrid:rare_boost=1 \\
        --initial 50 --batch 50 --rounds 6 --seeds 5 --out backtest-out

Runs the whole loop offline with real ultralytics (ml.backtest): for each seed
the same random initial images, then train -> evaluate on the held-out test
images -> score the rest -> select a batch -> reveal its labels. Writes
curves.csv, curves.png and summary.md (label efficiency against random, areas
under the curves, paired differences with 95 % confidence intervals) to --out.
"""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import backtest_report as report
from ml.backtest import BacktestConfig, parse_strategies, run_backtest
from ml.coco_read import read_coco
from models_mgmt.services.backend import get_backend


class Command(BaseCommand):
    help = __doc__.split("\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--coco", type=Path, required=True)
        parser.add_argument("--images", type=Path, required=True)
        parser.add_argument("--test-coco", type=Path, help="a separate test set")
        parser.add_argument("--test-images", type=Path)
        parser.add_argument(
            "--test-share", type=float, default=0.2,
            help="without --test-coco: share of the images held out for testing",
        )  # fmt: skip
        parser.add_argument("--strategies", default="random,hybrid:rare_boost=1")
        parser.add_argument("--initial", type=int, default=50)
        parser.add_argument("--batch", type=int, default=50)
        parser.add_argument("--rounds", type=int, default=6)
        parser.add_argument("--seeds", type=int, default=5)
        parser.add_argument(
            "--base", default="yolov8n.yaml",
            help="architecture file or a .pt on disk (pretrained weights)",
        )  # fmt: skip
        parser.add_argument("--imgsz", type=int, default=320)
        parser.add_argument("--budget", type=int, default=2000, help="images seen")
        parser.add_argument("--no-warm-start", action="store_true")
        parser.add_argument("--out", type=Path, default=Path("backtest-out"))

    def handle(self, *args, **opts):
        try:
            specs = parse_strategies(opts["strategies"])
            names, images, _ = read_coco(opts["coco"], opts["images"])
            if opts["test_coco"]:
                test_names, test, _ = read_coco(
                    opts["test_coco"], opts["test_images"] or opts["images"]
                )
                if test_names != names:
                    raise CommandError("the test file has other categories")
                pool = images
            else:
                cut = int(len(images) * (1 - opts["test_share"]))
                # Every k-th image is held out: stable and spread over the file.
                step = max(2, round(1 / max(opts["test_share"], 1e-6)))
                test = images[::step]
                pool = [img for k, img in enumerate(images) if k % step]
                del cut
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from None
        base = opts["base"]
        if base.endswith(".pt") and not Path(base).is_file():
            raise CommandError(f"{base}: no such weights file (nothing downloads)")
        config = BacktestConfig(
            initial=opts["initial"],
            batch=opts["batch"],
            rounds=opts["rounds"],
            seeds=tuple(range(opts["seeds"])),
            base=Path(base) if base.endswith(".pt") else base,
            epoch_budget=opts["budget"],
            warm_start=not opts["no_warm_start"],
            imgsz=opts["imgsz"],
            train={"val": False, "device": settings.ALWEB_ML_DEVICE},
        )
        out = opts["out"].resolve()
        t0 = time.monotonic()

        def progress(frac, msg):
            self.stdout.write(f"[{time.monotonic() - t0:6.0f} s] {frac:5.1%} {msg}")

        try:
            result = run_backtest(
                pool, test, names, specs, get_backend(), out / "runs", config, progress
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        result.write_csv(out / "curves.csv")
        report.plot(result, out / "curves.png", f"{len(pool)} images")
        table = report.summary_table(result)
        (out / "summary.md").write_text(table + "\n")
        self.stdout.write(table)
        self.stdout.write(f"wrote {out}/curves.csv, curves.png, summary.md")
