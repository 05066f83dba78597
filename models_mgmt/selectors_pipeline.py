"""Reads behind the pipeline page: the upper flow (ingest to ground truth) and the
lower flow (create to promote) as nodes with live counts and the last run of
each, and the training triggers in force with when each fires next."""

from dataclasses import dataclass, field

from django.utils import timezone
from django_q.models import Schedule

from annotate.selectors import project_split_counts, project_status_counts
from annotate.selectors_loop import items_approved_since_count, items_pending_scoring
from models_mgmt.models import Comparison, Evaluation, ModelVersion
from models_mgmt.selectors import best_model, training_settings_get
from runs.models import Job
from runs.selectors import run_latest_per_kind

KINDS = ("import", "score", "export", "train", "evaluate")


@dataclass(frozen=True)
class Node:
    key: str
    title: str
    figures: list[tuple[str, object]] = field(default_factory=list)
    run: Job | None = None
    link: str = ""  # a URL name of models_mgmt or annotate, project as argument


@dataclass(frozen=True)
class Trigger:
    name: str
    setting: str
    next_fire: str


def _score(metrics: dict) -> str:
    value = metrics.get("map50")
    return f"{value:.3f}" if isinstance(value, int | float) else "—"


@dataclass(frozen=True)
class Pipeline:
    upper: list[Node]
    lower: list[Node]
    triggers: list["Trigger"]


def pipeline_overview(*, project) -> Pipeline:
    """Both flows and the triggers, reading the best and newest versions and the
    newest run of each kind once (a bounded number of queries)."""
    best = best_model(project=project)
    newest = (
        ModelVersion.objects.filter(project=project, is_base=False)
        .only("number", "name", "status", "created_at")
        .order_by("-number")
        .first()
    )
    runs = run_latest_per_kind(project=project, kinds=KINDS)
    return Pipeline(
        upper=_upper(project, best, runs),
        lower=_lower(project, best, newest, runs),
        triggers=_triggers(project, best, newest),
    )


def _upper(project, best, runs) -> list[Node]:
    status = project_status_counts(project=project)
    split = project_split_counts(project=project)
    pending = items_pending_scoring(
        project=project, model_version_id=best.pk if best else None
    ).count()
    return [
        Node(
            "ingest",
            "Ingest",
            [("items", sum(status.values()))],
            runs.get("import"),
            "annotate:project-upload",
        ),
        Node(
            "predict",
            "Predict",
            [("waiting to be scored", pending), ("by", best.name if best else "—")],
            runs.get("score"),
        ),
        Node(
            "label",
            "Label",
            [
                ("unlabelled", status["unlabeled"]),
                ("being labelled", status["labeling"]),
            ],
            None,
            "annotate:label",
        ),
        Node(
            "review",
            "Review",
            [("in review", status["review"])],
            None,
            "annotate:review",
        ),
        Node(
            "split",
            "Split",
            [("train", split["train"]), ("val", split["val"]), ("test", split["test"])],
        ),
        Node(
            "ground-truth",
            "Ground truth",
            [("approved items", status["done"])],
            runs.get("export"),
            "annotate:project-items",
        ),
    ]


def _lower(project, best, newest, runs) -> list[Node]:
    evaluation = (
        Evaluation.objects.filter(project=project)
        .select_related("model_version")
        .only("created_at", "model_version__name", "metrics")
        .first()
    )
    comparison = (
        Comparison.objects.filter(project=project)
        .select_related("candidate")
        .only("winner", "promoted", "candidate__name")
        .first()
    )
    return [
        Node(
            "create",
            "Create",
            [("newest", newest.name if newest else "—")],
            None,
            "models_mgmt:models",
        ),
        Node(
            "train",
            "Train",
            [("status", newest.get_status_display() if newest else "—")],
            runs.get("train"),
        ),
        Node(
            "evaluate",
            "Evaluate",
            [
                ("last", evaluation.model_version.name if evaluation else "—"),
                ("mAP50", _score((evaluation.metrics or {}) if evaluation else {})),
            ],
            runs.get("evaluate"),
        ),
        Node(
            "compare",
            "Compare",
            [
                ("last", comparison.candidate.name if comparison else "—"),
                ("winner", comparison.winner if comparison else "—"),
            ],
            None,
            "models_mgmt:compare",
        ),
        Node(
            "promote",
            "Promote",
            [("best", best.name if best else "none yet")],
            None,
            "models_mgmt:compare",
        ),
    ]


def _triggers(project, best, newest) -> list["Trigger"]:
    """The triggers set for the project, each with when it fires next in words
    (the every-N and KPI counts start at the newest version's creation, as
    models_mgmt.services.triggers counts them)."""
    settings = training_settings_get(project=project)
    since = newest.created_at if newest else None
    n = settings.trigger_every_n_approved
    kpi = settings.trigger_kpi or {}
    fresh = items_approved_since_count(  # as far as the triggers count: bounded
        project=project,
        since=since,
        at_most=max(n or 0, int(kpi.get("min_items", 20)) if kpi else 0),
    )
    out = [Trigger("manual", "Train now (owners and developers)", "when pressed")]
    if settings.trigger_cron:
        schedule = Schedule.objects.filter(
            name=f"alweb-train-project-{project.pk}"
        ).first()
        when = "not scheduled (no worker has picked it up)"
        if schedule and schedule.next_run:
            local = timezone.localtime(schedule.next_run)
            zone = timezone.get_current_timezone_name()
            when = f"next at {local:%Y-%m-%d %H:%M} ({zone})"
        out.append(Trigger("cron", settings.trigger_cron, when))
    if n:
        left = max(0, n - fresh)
        out.append(
            Trigger(
                "every N approved",
                f"every {n} approved items",
                f"after {left} more approval{'s' if left != 1 else ''}"
                if left
                else "at the next approval",
            )
        )
    if kpi:
        need = max(0, int(kpi.get("min_items", 20)) - fresh)
        out.append(
            Trigger(
                "KPI",
                f"{kpi.get('metric')} below {kpi.get('target')}",
                (
                    f"checked after {need} more approvals"
                    if need
                    else "checked at the next approval"
                )
                + (
                    "" if best_model(project=project) else " (once a best model exists)"
                ),
            )
        )
    return out
