"""Reads behind the model-version pages: the versions table, one version by the
number users know it by (v1, v2), its latest evaluation, and two versions
compared metric by metric."""

from dataclasses import dataclass, field

from django.http import Http404

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


def learning_curve(*, project) -> list[tuple[ModelVersion, int]]:
    """Every version that was ever made the best one (promoted by a comparison,
    the best now, or one a later best replaced), with how many ground-truth
    items (train + val) it learned from, in version order."""
    promoted = set(
        Comparison.objects.filter(project=project, promoted=True).values_list(
            "candidate_id", flat=True
        )
    )
    versions = ModelVersion.objects.filter(project=project, is_base=False).only(
        "number", "name", "metrics", "train_item_ids", "val_item_ids", "is_best",
        "promoted_from_id",
    ).order_by("number")[:200]  # fmt: skip
    versions = list(versions)
    promoted |= {v.pk for v in versions if v.is_best}
    promoted |= {v.promoted_from_id for v in versions if v.promoted_from_id}
    return [
        (v, len(v.train_item_ids or []) + len(v.val_item_ids or []))
        for v in versions
        if v.pk in promoted
    ]
