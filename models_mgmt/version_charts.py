"""The charts of the model-version pages, drawn by models_mgmt.charts from what a
version stores (per-epoch history, test metrics) and marked safe for templates
(charts.py escapes every label it writes)."""

from django.utils.safestring import SafeString, mark_safe

from models_mgmt import charts
from models_mgmt.models import ModelVersion
from models_mgmt.selectors_versions import METRICS, VersionComparison


def _curves(version: ModelVersion, keys, title: str, y_label: str, testid: str):
    series = {}
    for key, label in keys:
        points = [
            (float(h["epoch"]), float(h[key]))
            for h in version.history or []
            if isinstance(h.get(key), int | float)
        ]
        if points:
            series[label] = points
    return charts.line_chart(
        series, title=title, x_label="epoch", y_label=y_label, testid=testid
    )


def training_curves(version: ModelVersion) -> dict[str, SafeString]:
    """Losses and validation metrics per epoch (empty charts say "no data yet")."""
    history = version.history or []
    loss_keys = sorted(
        {k for h in history for k in h if k.endswith("loss") and k != "epoch"}
    )
    losses = _curves(
        version,
        [(k, k.replace("_", " ")) for k in loss_keys],
        f"{version.name}: losses per epoch",
        "loss (lower is better)",
        "chart-losses",
    )
    metrics = _curves(
        version,
        METRICS,
        f"{version.name}: validation metrics per epoch",
        "score (0–1)",
        "chart-val-metrics",
    )
    return {"losses": mark_safe(losses), "metrics": mark_safe(metrics)}


def per_class_bars(version: ModelVersion, metrics: dict) -> SafeString:
    per_class = metrics.get("per_class") or {}
    names = [c for c in version.class_names if c in per_class] or sorted(per_class)
    return mark_safe(
        charts.bar_chart(
            names,
            {"AP50": [(per_class[c] or {}).get("map50") for c in names]},
            title=f"{version.name}: AP50 per class on the test items",
            x_label="class",
            y_label="AP50 (0–1)",
            testid="chart-per-class",
            y_range=(0.0, 1.0),
        )
    )


def confusion(version: ModelVersion, metrics: dict, testid: str) -> SafeString:
    return mark_safe(
        charts.heatmap(
            metrics.get("confusion_matrix") or [],
            metrics.get("confusion_labels") or [],
            title=f"{version.name}: confusion matrix (counts)",
            testid=testid,
        )
    )


def comparison_charts(cmp: VersionComparison, metrics_a, metrics_b) -> dict:
    a, b = cmp.a.name, cmp.b.name
    return {
        "metrics": mark_safe(
            charts.bar_chart(
                [m.name for m in cmp.metrics],
                {a: [m.a for m in cmp.metrics], b: [m.b for m in cmp.metrics]},
                title=f"{a} and {b} on their test items",
                x_label="metric",
                y_label="score (0–1)",
                testid="chart-compare-metrics",
                y_range=(0.0, 1.0),
            )
        ),
        "per_class": mark_safe(
            charts.bar_chart(
                [m.name for m in cmp.per_class],
                {f"{b} − {a}": [m.delta for m in cmp.per_class]},
                title=f"AP50 per class: {b} minus {a}",
                x_label="class",
                y_label="Δ AP50",
                testid="chart-compare-per-class",
            )
        ),
        "confusion_a": confusion(cmp.a, metrics_a, "chart-confusion-a"),
        "confusion_b": confusion(cmp.b, metrics_b, "chart-confusion-b"),
    }


def learning_curve_chart(points) -> SafeString:
    """mAP of each promoted version against the ground truth it learned from."""
    series = {}
    for key, label in METRICS[:2]:
        series[label] = [
            (float(p.ground_truth), float(p.version.metrics[key]))
            for p in points
            if isinstance((p.version.metrics or {}).get(key), int | float)
        ]
    return mark_safe(
        charts.line_chart(
            series,
            title="Learning curve: promoted versions",
            x_label="ground-truth items trained on (train + val)",
            y_label="score on the test items (0–1)",
            testid="chart-learning-curve",
            y_range=(0.0, 1.0),
        )
    )


PICK_SERIES = (
    ("random", "test items picked at random"),
    ("strategy", "test items picked by the strategy"),
)


def pick_curve_chart(points, *, missing: str) -> SafeString:
    """F1 at IoU 0.5 of each promoted version on the test items picked at
    random and on those its strategy picked, against the ground truth it
    learned from; `missing` is the note drawn when no point has both."""
    series = {
        label: [
            (float(p.ground_truth), p.f1(group))
            for p in points
            if p.f1(group) is not None
        ]
        for group, label in PICK_SERIES
    }
    title = "Learning curve by how the test items were chosen"
    if not series[PICK_SERIES[0][1]]:
        return mark_safe(
            charts.empty_chart(title=title, message=missing, testid="chart-pick-curve")
        )
    return mark_safe(
        charts.line_chart(
            series,
            title=title,
            x_label="ground-truth items trained on (train + val)",
            y_label="F1 at IoU 0.5 (0–1)",
            testid="chart-pick-curve",
            y_range=(0.0, 1.0),
        )
    )
