"""The backtest loop end to end: a fast scripted backend, and real ultralytics."""

import csv
import hashlib
from pathlib import Path

import pytest

from ml.backtest import BacktestConfig, StrategySpec, epochs_for, run_backtest
from ml.backtest_report import (
    efficiency,
    labels_to_reach,
    mean_curves,
    paired_differences,
    plot,
    summary_table,
    t95,
)
from ml.training import TrainResult
from ml.types import Detection, ImagePrediction
from tests.ml.synthetic import synthetic_ground_truth


class ScriptedBackend:
    """Trains nothing: mAP grows with the number of 'hard' images labelled (the
    odd-numbered files), so a strategy that finds them wins. Predictions make
    hard images uncertain."""

    def __init__(self):
        self.trained: list[int] = []

    def train(self, data_yaml, base, out_dir, config, progress=None, cancel=None):
        labels = Path(data_yaml).parent / "labels" / "train"
        hard = sum(1 for p in labels.iterdir() if int(p.stem.split("_")[-1][-1]) % 2)
        total = len(list(labels.iterdir()))
        weights = Path(out_dir) / "w.pt"
        weights.parent.mkdir(parents=True, exist_ok=True)
        weights.write_text(f"{hard} {total}")
        self.trained.append(total)
        return TrainResult(weights, {}, config["epochs"], "")

    def validate(
        self, weights, data_yaml, split="test", imgsz=320, device="cpu", batch=16
    ):
        hard, total = (int(v) for v in Path(weights).read_text().split())
        value = 0.2 + 0.02 * hard + 0.002 * total
        return {"map50": value + 0.1, "map50_95": value}

    def score_images(
        self,
        weights,
        image_paths,
        *,
        imgsz=320,
        conf=0.05,
        iou=0.7,
        device="cpu",
        batch=8,
        embed=True,
        flip=False,
    ):
        for path in image_paths:
            n = int(Path(path).stem.split()[-1])
            score = 0.5 if n % 2 else 0.95
            digest = hashlib.sha256(str(path).encode()).digest()
            emb = tuple(b / 255 for b in digest[:8])
            det = Detection("square", score, (score, 0.0), (1.0, 1.0, 5.0, 5.0))
            yield ImagePrediction(str(path), 64, 64, (det,), emb)


@pytest.fixture
def oracle(tmp_path):
    pool = synthetic_ground_truth(tmp_path / "pool", n=40, size=64, seed=1)
    test = synthetic_ground_truth(tmp_path / "test", n=8, size=64, seed=2)
    return pool, test


def test_uncertainty_finds_the_hard_images_and_beats_random(oracle, tmp_path):
    pool, test = oracle
    config = BacktestConfig(
        initial=6, batch=6, rounds=3, seeds=(0, 1, 2), base="yolov8n.yaml", imgsz=64
    )
    backend = ScriptedBackend()
    specs = [StrategySpec("random"), StrategySpec("entropy", {"control_share": 0})]
    result = run_backtest(
        pool, test, ["square", "disc"], specs, backend, tmp_path / "runs", config
    )
    assert len(result.rounds) == 3 * 2 * 4
    # Same initial set per seed for every strategy: round 0 is identical.
    by = {(r.strategy, r.seed, r.round): r for r in result.rounds}
    for seed in (0, 1, 2):
        assert by[("random", seed, 0)].map50_95 == by[("entropy", seed, 0)].map50_95
        assert by[("entropy", seed, 3)].images == 6 + 3 * 6
    curves = mean_curves(result)
    assert curves["entropy"][-1].map50_95 > curves["random"][-1].map50_95
    eff = efficiency(curves, "entropy")
    assert eff["images_share"] < 1.0 and eff["images_efficiency"] > 1.0
    diffs = paired_differences(result, "entropy")
    assert diffs[0].mean == 0.0 and diffs[-1].low > 0
    assert "| entropy |" in summary_table(result)
    path = result.write_csv(tmp_path / "out" / "curves.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 24 and rows[0]["strategy"] == "random"
    assert plot(result, tmp_path / "out" / "curves.png").stat().st_size > 10_000


def test_bad_backtests_are_refused(oracle, tmp_path):
    pool, test = oracle
    with pytest.raises(ValueError, match="unknown strategy"):
        run_backtest(
            pool, test, ["square", "disc"], [StrategySpec("magic")],
            ScriptedBackend(), tmp_path, BacktestConfig(),
        )  # fmt: skip
    with pytest.raises(ValueError, match="pool smaller"):
        run_backtest(
            pool, test, ["square", "disc"], [StrategySpec("random")],
            ScriptedBackend(), tmp_path, BacktestConfig(initial=30, batch=10, rounds=2),
        )  # fmt: skip


def test_report_arithmetic():
    from ml.backtest_report import CurvePoint

    curve = [CurvePoint(0, 10, 20, 0.2, 0, 0), CurvePoint(1, 20, 40, 0.6, 0, 0)]
    assert labels_to_reach(curve, 0.4, "images") == pytest.approx(15)
    assert labels_to_reach(curve, 0.4, "boxes") == pytest.approx(30)
    assert labels_to_reach(curve, 0.1, "images") == 10
    assert labels_to_reach(curve, 0.9, "images") is None
    assert t95(4) == 2.776 and t95(11) == 2.228 and t95(100) == 1.96
    assert epochs_for(50, 1500, 5, 100) == 30 and epochs_for(1000, 1500, 5, 100) == 5


@pytest.mark.slow
def test_a_tiny_backtest_with_real_ultralytics(oracle, tmp_path, yolo_offline):
    from ml.backends import ultralytics as backend

    pool, test = oracle
    config = BacktestConfig(
        initial=8, batch=8, rounds=2, seeds=(0,), base="yolov8n.yaml",
        epoch_budget=16, min_epochs=1, max_epochs=2, imgsz=64, train={"val": False},
    )  # fmt: skip
    specs = [StrategySpec("random"), StrategySpec("hybrid")]
    result = run_backtest(
        pool, test, ["square", "disc"], specs, backend, tmp_path / "runs", config
    )
    assert [(r.strategy, r.round, r.images) for r in result.rounds] == [
        ("random", 0, 8), ("random", 1, 16), ("random", 2, 24),
        ("hybrid", 0, 8), ("hybrid", 1, 16), ("hybrid", 2, 24),
    ]  # fmt: skip
    for r in result.rounds:
        assert 0.0 <= r.map50_95 <= 1.0
        if r.round < 2:
            assert len(set(r.picked_ids)) == 8
