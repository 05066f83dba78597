"""Reads behind the model-version pages: the versions table, one version by the
number users know it by (v1, v2), its latest evaluation, and two versions
compared metric by metric."""

import json
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404

from annotate.selectors import pipeline_get
from ml.selection import STRATEGIES, validate_strategy_params
from models_mgmt.models import Comparison, Evaluation, ModelVersion

METRICS = (
    ("map50", "mAP50"),
    ("map50_95", "mAP50-95"),
    ("precision", "precision"),
    ("recall", "recall"),
)


class BadComparison(ValueError):
    """Two versions that cannot be compared (the same one twice, a missing one)."""


@dataclass(frozen=True)
class VersionRow:
    version: ModelVersion
    train_items: int
    run_seconds: float | None

    @property
    def run_time(self) -> str:
        """The run's duration in words ("42 s", "3 min 05 s", "2 h 10 min")."""
        return duration_words(self.run_seconds)


def duration_words(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def version_rows(*, project, limit: int = 50) -> list[VersionRow]:
    """The project's versions newest first, with how many items each trained on
    and how long its run took (None while it has not finished)."""
    versions = (
        ModelVersion.objects.filter(project=project)
        .select_related("parent")
        .defer("log", "val_item_ids", "history")[:limit]
    )
    return [
        VersionRow(
            version=v,
            train_items=len(v.train_item_ids or []),
            run_seconds=(v.finished_at - v.started_at).total_seconds()
            if v.started_at and v.finished_at
            else None,
        )
        for v in versions
    ]


def version_choices(*, project, limit: int = 100) -> list[ModelVersion]:
    """The project's versions newest first, only what a picker or a promote
    button needs (number, name, status, best, weights)."""
    return list(
        ModelVersion.objects.filter(project=project)
        .only("number", "name", "status", "is_best", "weights", "project_id")
        .order_by("-number")[:limit]
    )


def parse_version_number(value) -> int:
    """A version number from a URL or form ("3" or "v3"); Http404 otherwise."""
    text = str(value or "").strip().lower().removeprefix("v")
    if not text.isdigit() or len(text) > 9:
        raise Http404("no such model version")
    return int(text)


def model_version_by_number(*, project, number) -> ModelVersion:
    """The project's version `number` (v<number>); Http404 when it has none, so a
    version of another project is never reached through this one."""
    number = parse_version_number(number)
    version = (
        ModelVersion.objects.filter(project=project, number=number)
        .select_related("parent", "promoted_from")
        .first()
    )
    if version is None:
        raise Http404("this project has no such model version")
    return version


def model_version_number_by_id(*, project, model_id: int) -> int:
    """The number (v<number>) of the project's version with database id
    `model_id` (the id events store); Http404 when the project has none."""
    number = (
        ModelVersion.objects.filter(project=project, pk=model_id)
        .values_list("number", flat=True)
        .first()
    )
    if number is None:
        raise Http404("this project has no such model version")
    return number


def evaluation_latest(*, version: ModelVersion) -> Evaluation | None:
    """The newest evaluation of the version on its frozen test items, or None."""
    return Evaluation.objects.filter(model_version=version).first()


def version_metrics(version: ModelVersion) -> dict:
    """The version's test metrics (the newest evaluation's, stored on the version
    when it finished); empty before it was evaluated."""
    return {k: v for k, v in (version.metrics or {}).items() if k != "train"}


@dataclass(frozen=True)
class MetricDelta:
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class VersionComparison:
    """Version `a` against version `b`: deltas are b - a."""

    a: ModelVersion
    b: ModelVersion
    metrics: list[MetricDelta] = field(default_factory=list)
    per_class: list[MetricDelta] = field(default_factory=list)  # AP50 per class


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def version_compare(*, project, a, b) -> VersionComparison:
    """Two versions of `project`, given by number, side by side. Http404 when one
    is not a version of the project; BadComparison when they are the same."""
    if a in (None, "") or b in (None, ""):
        raise BadComparison("choose two versions to compare")
    first = model_version_by_number(project=project, number=a)
    second = model_version_by_number(project=project, number=b)
    if first.pk == second.pk:
        raise BadComparison(f"{first.name} compared with itself: choose two versions")
    ma, mb = version_metrics(first), version_metrics(second)
    metrics = [
        MetricDelta(label, _number(ma.get(key)), _number(mb.get(key)))
        for key, label in METRICS
    ]
    pa, pb = ma.get("per_class") or {}, mb.get("per_class") or {}
    classes = [c for c in first.class_names if c in pa or c in pb]
    classes += sorted((set(pa) | set(pb)) - set(classes))
    per_class = [
        MetricDelta(
            name,
            _number((pa.get(name) or {}).get("map50")),
            _number((pb.get(name) or {}).get("map50")),
        )
        for name in classes
    ]
    return VersionComparison(first, second, metrics, per_class)


@dataclass(frozen=True)
class LearningPoint:
    """A version that became the best one, the ground truth it learned from,
    and the error analysis of its own evaluation per way its test items were
    chosen ({"random"|"strategy"|"other": {"items", "true_positive",
    "false_positive", "missed"}}; empty when the evaluation has none)."""

    version: ModelVersion
    ground_truth: int
    by_pick: dict = field(default_factory=dict)

    def f1(self, group: str) -> float | None:
        """F1 at IoU 0.5 on the test items of `group`; None without any."""
        c = self.by_pick.get(group) or {}
        tp = c.get("true_positive", 0)
        wrong = c.get("false_positive", 0) + c.get("missed", 0)
        if not c.get("items") or not tp + wrong:
            return None
        return 2 * tp / (2 * tp + wrong)

    @property
    def f1_random(self) -> float | None:
        return self.f1("random")

    @property
    def f1_strategy(self) -> float | None:
        return self.f1("strategy")


def learning_curve(*, project) -> list[LearningPoint]:
    """Every version that was ever made the best one (promoted by a comparison,
    the best now, or one a later best replaced), with how many ground-truth
    items (train + val) it learned from and its first evaluation's counts per
    way the test items were chosen, in version order. One query."""
    # The evaluation each version got when it was trained (its first): the one
    # its stored metrics come from, on the test items of that moment.
    first_eval = Evaluation.objects.filter(model_version=OuterRef("pk")).order_by(
        "created_at", "id"
    )
    versions = list(
        ModelVersion.objects.filter(project=project, is_base=False)
        .only(
            "number",
            "name",
            "metrics",
            "train_item_ids",
            "val_item_ids",
            "is_best",
            "promoted_from_id",
        )  # fmt: skip
        .annotate(
            was_promoted=Exists(
                Comparison.objects.filter(candidate=OuterRef("pk"), promoted=True)
            ),
            first_stats=Subquery(first_eval.values("error_stats")[:1]),
        )
        .order_by("number")[:200]
    )
    promoted = {v.pk for v in versions if v.was_promoted or v.is_best}
    promoted |= {v.promoted_from_id for v in versions if v.promoted_from_id}
    return [
        LearningPoint(
            v,
            len(v.train_item_ids or []) + len(v.val_item_ids or []),
            _by_pick(v.first_stats),
        )
        for v in versions
        if v.pk in promoted
    ]


def _by_pick(stats) -> dict:
    if isinstance(stats, str):  # a JSON subquery comes back as text on SQLite
        try:
            stats = json.loads(stats)
        except ValueError:
            return {}
    by_pick = stats.get("by_pick") if isinstance(stats, dict) else None
    return by_pick if isinstance(by_pick, dict) else {}


def pick_curve_missing(*, project, points: list[LearningPoint]) -> str:
    """Why the random picks' learning curve has no point, in a few words (the
    chart's note), or "" when it has one."""
    if any(p.f1("random") is not None for p in points):
        return ""
    pipeline = pipeline_get(project=project)
    spec = STRATEGIES.get(pipeline.strategy)
    if spec is None or not spec.controlled:
        return f"the strategy is {pipeline.strategy}: every pick is random already"
    if not points:
        return "no version has become the best model yet"
    if not any(p.by_pick for p in points):
        return "no evaluation counted its test items by how they were picked yet"
    try:
        share = validate_strategy_params(pipeline.strategy, pipeline.strategy_params)
    except ValueError:
        share = {}
    if not share.get("control_share") and not share.get("warmup"):
        return "control_share is 0: no item is picked at random (see Settings)"
    return "no test item was picked at random yet"
