"""Backtest selection strategies on already-labelled data (the labels as oracle).

For every seed and strategy the loop starts from the same seeded random
``initial`` images, then repeats: train, evaluate on the fixed test set, score
the unlabelled rest of the pool, select a batch with the strategy, "label" it
(reveal its known shapes), until ``rounds`` batches were added. Each round may
warm-start from the previous round's weights. The curves (mAP against labelled
images and labelled boxes) go to :class:`BacktestResult`; ``ml.backtest_report``
turns them into label efficiency, areas under the curves and paired
differences with confidence intervals.

Framework-free: the backend is anything implementing :class:`ml.backend.Backend`.
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml import scores
from ml.backend import Backend
from ml.datasets import write_yolo_dataset
from ml.selection import STRATEGIES, Candidate, hash_uniform, select
from ml.types import GroundTruthImage, ImagePrediction


@dataclass(frozen=True)
class StrategySpec:
    """A strategy under test: a registry name, its params, and a display name."""

    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.strategy


@dataclass(frozen=True)
class BacktestConfig:
    initial: int = 50
    batch: int = 50
    rounds: int = 6
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    base: str | Path = "yolov8n.yaml"
    train: dict[str, Any] = field(default_factory=dict)
    epoch_budget: int = 2000  # images seen per round: epochs = budget / |labelled|
    min_epochs: int = 5
    max_epochs: int = 100
    warm_start: bool = True
    conf: float = 0.01
    imgsz: int = 160
    # How the first `initial` images are chosen before any model exists:
    # "random", or a cold-start strategy ("typicality", "diversity") on pixel
    # embeddings, as the live app does.
    initial_strategy: str = "random"


@dataclass(frozen=True)
class RoundResult:
    strategy: str
    seed: int
    round: int
    images: int
    boxes: int
    map50: float
    map50_95: float
    train_seconds: float
    control_images: int
    picked_ids: tuple[int, ...]


@dataclass
class BacktestResult:
    config: BacktestConfig
    rounds: list[RoundResult] = field(default_factory=list)

    def write_csv(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["strategy", "seed", "round", "images", "boxes", "map50",
                 "map50_95", "train_seconds", "control_images", "picked"]
            )  # fmt: skip
            for r in self.rounds:
                writer.writerow(
                    [r.strategy, r.seed, r.round, r.images, r.boxes,
                     f"{r.map50:.5f}", f"{r.map50_95:.5f}",
                     f"{r.train_seconds:.2f}", r.control_images,
                     " ".join(str(i) for i in r.picked_ids)]
                )  # fmt: skip
        return path


Progress = Callable[[float, str], None]


def parse_strategies(text: str) -> list[StrategySpec]:
    """``"random,hybrid:rare_boost=1:alpha=0.3"`` -> specs (params as JSON
    scalars). Raises ValueError naming an unknown strategy or a bad param."""
    import json

    specs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, *pairs = part.split(":")
        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}")
        params: dict[str, Any] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            if not sep:
                raise ValueError(f"{part}: expected param=value, got {pair!r}")
            try:
                params[key] = json.loads(raw)
            except ValueError:
                params[key] = raw
        from ml.selection import validate_strategy_params

        validate_strategy_params(name, params)  # names the bad field
        specs.append(StrategySpec(name, params, part if pairs else ""))
    if not specs:
        raise ValueError("no strategies given")
    return specs


def epochs_for(n_images: int, budget: int, lo: int, hi: int) -> int:
    """Epochs so that about ``budget`` images are seen, within [lo, hi]."""
    return int(min(hi, max(lo, round(budget / max(1, n_images)))))


def run_backtest(
    pool: Sequence[GroundTruthImage],
    test: Sequence[GroundTruthImage],
    class_names: Sequence[str],
    strategies: Sequence[StrategySpec],
    backend: Backend,
    workdir: Path,
    config: BacktestConfig,
    progress: Progress | None = None,
) -> BacktestResult:
    """Run the loop for every seed x strategy; see the module docstring.

    ``pool`` images carry their true shapes (their ``split`` is ignored);
    ``test`` is the fixed evaluation set. Raises ValueError for an unknown
    strategy or a pool smaller than ``initial + batch * rounds``.
    """
    for spec in strategies:
        if spec.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {spec.strategy!r}")
    if len(pool) < config.initial + config.batch * config.rounds:
        raise ValueError("pool smaller than initial + batch * rounds")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    test_yaml = _dataset(test, class_names, workdir / "test", split="test")
    result = BacktestResult(config)
    total = len(config.seeds) * len(strategies) * (config.rounds + 1)
    done = 0
    pixel = None
    if config.initial_strategy != "random":
        from ml.embeddings import pixel_embedding

        pixel = [pixel_embedding(img.path) for img in pool]
    for seed in config.seeds:
        initial = initial_selection(pool, config, seed, pixel)
        for spec in strategies:
            run = _StrategyRun(pool, class_names, spec, backend, config, seed)
            labelled = list(initial)
            controls = 0
            for rnd in range(config.rounds + 1):
                if progress:
                    progress(done / total, f"{spec.label} seed {seed} round {rnd}")
                rdir = workdir / f"{spec.label}-s{seed}" / f"r{rnd}"
                weights, seconds = run.train(labelled, rdir)
                metrics = backend.validate(
                    weights, test_yaml, split="test", imgsz=config.imgsz,
                    device=config.train.get("device", "cpu"),
                )  # fmt: skip
                picked: list[int] = []
                if rnd < config.rounds:
                    picked, n_control = run.select(labelled, weights, rnd)
                    controls += n_control
                result.rounds.append(
                    RoundResult(
                        spec.label, seed, rnd, len(labelled),
                        sum(len(pool[i].shapes) for i in labelled),
                        float(metrics["map50"]), float(metrics["map50_95"]),
                        seconds, controls, tuple(picked),
                    )
                )  # fmt: skip
                labelled = labelled + picked
                done += 1
                # Keep the last weights (the next round starts from them).
                shutil.rmtree(rdir / "dataset", ignore_errors=True)
    if progress:
        progress(1.0, "done")
    return result


def initial_selection(pool, config: BacktestConfig, seed: int, pixel=None) -> list[int]:
    """The seeded first images of a run (the same for every strategy)."""
    if config.initial_strategy == "random":
        ids = np.arange(len(pool), dtype=np.int64)
        first = np.argsort(hash_uniform(ids, 7919 + seed), kind="stable")
        return [int(i) for i in first[: config.initial]]
    cands = [Candidate(i, None, pixel[i]) for i in range(len(pool))]
    sel = select(
        config.initial_strategy,
        cands,
        {"batch_size": config.initial, "control_share": 0.0},
        7919 + seed,
    )
    return sel.batch()


class _StrategyRun:
    """One strategy and seed: trains round after round and selects batches."""

    def __init__(self, pool, class_names, spec, backend, config, seed):
        self.pool, self.class_names, self.spec = pool, list(class_names), spec
        self.backend, self.config, self.seed = backend, config, seed
        self.weights: Path | None = None
        self.previous: Path | None = None

    def train(self, labelled: list[int], rdir: Path) -> tuple[Path, float]:
        if rdir.exists():
            shutil.rmtree(rdir)
        images = [_as_split(self.pool[i], "train") for i in labelled]
        data_yaml = write_yolo_dataset(
            images + [_as_split(self.pool[i], "val") for i in labelled],
            self.class_names,
            rdir / "dataset",
        )
        cfg = {
            "epochs": epochs_for(
                len(labelled),
                self.config.epoch_budget,
                self.config.min_epochs,
                self.config.max_epochs,
            ),
            "imgsz": self.config.imgsz,
            "batch": 16,
            "patience": 0,
            "optimizer": "auto",
            "lr0": 0.01,
            "device": "cpu",
            "seed": self.seed,
            **self.config.train,
        }
        base = (
            self.weights
            if (self.config.warm_start and self.weights)
            else self.config.base
        )
        t0 = time.monotonic()
        result = self.backend.train(data_yaml, base, rdir, cfg)
        seconds = time.monotonic() - t0
        self.previous = self.weights
        kept = rdir / "weights.pt"
        shutil.copyfile(result.weights_path, kept)
        shutil.rmtree(rdir / "train", ignore_errors=True)
        self.weights = kept
        return kept, seconds

    def select(
        self, labelled: list[int], weights: Path, rnd: int
    ) -> tuple[list[int], int]:
        strategy = STRATEGIES[self.spec.strategy]
        taken = set(labelled)
        rest = [i for i in range(len(self.pool)) if i not in taken]
        preds = self._predict(weights, rest)
        prev = flip = None
        if strategy.needs_committee and self.previous is not None:
            prev = self._predict(self.previous, rest)
        if strategy.needs_flip:
            flip = self._predict(weights, rest, flip=True)
        counts: dict[str, int] = {}
        for i in labelled:
            for shape in self.pool[i].shapes:
                counts[shape.label] = counts.get(shape.label, 0) + 1
        weights_c = scores.class_weights(self.class_names, counts)
        params = {**strategy.defaults, **self.spec.params}
        params["batch_size"] = self.config.batch
        method = strategy.method_for(params) or "entropy"
        how = params.get("aggregate", "max")
        cands = []
        for k, i in enumerate(rest):
            p = preds[k]
            comp = {
                "rare": scores.rare_boost(p.detections, self.class_names, weights_c)
            }
            if prev is not None:
                comp["disagreement"] = scores.disagreement(
                    p.detections, prev[k].detections
                )
            if flip is not None:
                comp["instability"] = scores.instability(
                    p.detections, flip[k].detections, p.width
                )
            cands.append(
                Candidate(
                    i,
                    scores.uncertainty(p.detections, method, how),
                    p.embedding,
                    comp,
                )
            )
        reference = None
        if strategy.needs_embeddings:
            lab = self._predict(weights, labelled, embed_only=True)
            reference = [p.embedding for p in lab if p.embedding]
        sel = select(
            self.spec.strategy,
            cands,
            params,
            self.seed * 1000 + rnd,
            reference_embeddings=reference,
            batch_index=rnd,
            labelled=len(labelled),
        )
        batch = sel.batch()
        n_control = sum(1 for i in batch if sel.picks[i].control)
        return batch, n_control

    def _predict(
        self,
        weights: Path,
        idx: list[int],
        *,
        flip: bool = False,
        embed_only: bool = False,
    ) -> list[ImagePrediction]:
        return list(
            self.backend.score_images(
                weights,
                [self.pool[i].path for i in idx],
                imgsz=self.config.imgsz,
                conf=self.config.conf,
                device=self.config.train.get("device", "cpu"),
                batch=32,
                embed=not flip,
                flip=flip,
            )
        )


def _as_split(img: GroundTruthImage, split: str) -> GroundTruthImage:
    return GroundTruthImage(img.path, img.width, img.height, img.shapes, split)


def _dataset(images, class_names, out: Path, split: str) -> Path:
    if out.exists():
        shutil.rmtree(out)
    return write_yolo_dataset(
        [_as_split(i, split) for i in images], class_names, out, splits=(split,)
    )


def result_rows(result: BacktestResult) -> list[dict[str, Any]]:
    return [asdict(r) for r in result.rounds]
