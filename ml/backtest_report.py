"""Summaries of a backtest: mean curves, label efficiency, paired differences.

* **Label efficiency** of a strategy against ``random``: the labels random
  needs for its final mean mAP50-95 divided by the labels the strategy needs
  for the same mAP, read off the strategy's mean curve by linear
  interpolation (images and boxes separately). Above 1 saves labels. None when
  the strategy never reaches it within the budget.
* **Area under the curve**: trapezoid of mean mAP50-95 over labelled images,
  divided by the image range (a mean mAP over the budget).
* **Paired difference** per round: strategy minus random for the same seed
  (same initial set), with its mean and a 95 % t confidence interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ml.backtest import BacktestResult, RoundResult

# Two-sided 95 % Student t critical values by degrees of freedom.
_T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
    8: 2.306, 9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042,
}  # fmt: skip


def t95(df: int) -> float:
    """The 95 % two-sided t critical value (the next smaller tabled df)."""
    if df <= 0:
        return math.inf
    keys = [k for k in sorted(_T95) if k <= df]
    return _T95[keys[-1]] if df <= 30 else 1.96


@dataclass(frozen=True)
class CurvePoint:
    round: int
    images: float
    boxes: float
    map50_95: float
    map50_95_sd: float
    map50: float


@dataclass(frozen=True)
class Paired:
    round: int
    mean: float
    low: float
    high: float
    n: int


def mean_curves(result: BacktestResult) -> dict[str, list[CurvePoint]]:
    by: dict[tuple[str, int], list[RoundResult]] = defaultdict(list)
    for r in result.rounds:
        by[(r.strategy, r.round)].append(r)
    out: dict[str, list[CurvePoint]] = defaultdict(list)
    for (strategy, rnd), rows in sorted(by.items()):
        vals = [r.map50_95 for r in rows]
        out[strategy].append(
            CurvePoint(
                rnd,
                _mean([r.images for r in rows]),
                _mean([r.boxes for r in rows]),
                _mean(vals),
                _sd(vals),
                _mean([r.map50 for r in rows]),
            )
        )
    return dict(out)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _sd(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def labels_to_reach(
    curve: Sequence[CurvePoint], target: float, axis: str
) -> float | None:
    """Labels (``images`` or ``boxes``) at which the curve first reaches
    ``target``, linearly interpolated; None if it never does."""
    prev = None
    for p in curve:
        x = getattr(p, axis)
        if p.map50_95 >= target:
            if prev is None:
                return x
            px, py = getattr(prev, axis), prev.map50_95
            if p.map50_95 == py:
                return x
            return px + (target - py) * (x - px) / (p.map50_95 - py)
        prev = p
    return None


def efficiency(
    curves: dict[str, list[CurvePoint]], strategy: str, baseline: str = "random"
) -> dict[str, float | None]:
    """Label efficiency and label share against ``baseline`` (module docstring)."""
    base = curves[baseline]
    target = base[-1].map50_95
    out: dict[str, float | None] = {"target_map50_95": target}
    for axis in ("images", "boxes"):
        need = labels_to_reach(curves[strategy], target, axis)
        base_need = labels_to_reach(base, target, axis)
        out[f"{axis}_needed"] = need
        out[f"{axis}_share"] = None if need is None else need / base_need
        out[f"{axis}_efficiency"] = None if not need else base_need / need
    return out


def auc(curve: Sequence[CurvePoint]) -> float:
    if len(curve) < 2:
        return curve[0].map50_95 if curve else math.nan
    area = sum(
        (b.images - a.images) * (a.map50_95 + b.map50_95) / 2
        for a, b in zip(curve, curve[1:], strict=False)
    )
    return area / (curve[-1].images - curve[0].images)


def paired_differences(
    result: BacktestResult, strategy: str, baseline: str = "random"
) -> list[Paired]:
    rows = {(r.strategy, r.seed, r.round): r.map50_95 for r in result.rounds}
    rounds = sorted({r.round for r in result.rounds})
    seeds = sorted({r.seed for r in result.rounds})
    out = []
    for rnd in rounds:
        diffs = [
            rows[(strategy, s, rnd)] - rows[(baseline, s, rnd)]
            for s in seeds
            if (strategy, s, rnd) in rows and (baseline, s, rnd) in rows
        ]
        if not diffs:
            continue
        m, sd = _mean(diffs), _sd(diffs)
        half = (
            t95(len(diffs) - 1) * sd / math.sqrt(len(diffs))
            if len(diffs) > 1
            else math.inf
        )
        out.append(Paired(rnd, m, m - half, m + half, len(diffs)))
    return out


def summary_table(result: BacktestResult, baseline: str = "random") -> str:
    """A Markdown table: final mAP, AUC, label shares, worst paired round."""
    curves = mean_curves(result)
    lines = [
        "| strategy | final mAP50-95 | AUC | images for random's final mAP "
        "(share) | boxes (share) | worst round vs random (95 % CI) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, curve in curves.items():
        eff = efficiency(curves, name, baseline) if baseline in curves else {}
        worst = ""
        if name != baseline and baseline in curves:
            diffs = paired_differences(result, name, baseline)
            w = min(diffs, key=lambda d: d.mean)
            worst = f"round {w.round}: {w.mean:+.4f} [{w.low:+.4f}, {w.high:+.4f}]"
        lines.append(
            f"| {name} | {curve[-1].map50_95:.4f} ± {curve[-1].map50_95_sd:.4f} "
            f"| {auc(curve):.4f} "
            f"| {_fmt(eff.get('images_needed'), eff.get('images_share'))} "
            f"| {_fmt(eff.get('boxes_needed'), eff.get('boxes_share'))} | {worst} |"
        )
    return "\n".join(lines)


def _fmt(need, share) -> str:
    if need is None:
        return "not reached"
    return f"{need:.0f} ({share:.0%})"


def plot(result: BacktestResult, path: Path, title: str = "") -> Path:
    """Learning curves (mean ± sd over seeds) against images and against boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = mean_curves(result)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for axis, ax in zip(("images", "boxes"), axes, strict=True):
        for name, curve in curves.items():
            xs = [getattr(p, axis) for p in curve]
            ys = [p.map50_95 for p in curve]
            sd = [p.map50_95_sd for p in curve]
            style = "--" if name == "random" else "-"
            (line,) = ax.plot(xs, ys, style, marker="o", ms=3, label=name)
            ax.fill_between(
                xs, [y - s for y, s in zip(ys, sd, strict=True)],
                [y + s for y, s in zip(ys, sd, strict=True)],
                color=line.get_color(), alpha=0.15,
            )  # fmt: skip
        ax.set_xlabel(f"labelled {axis}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mAP50-95 on the test set")
    axes[0].legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
