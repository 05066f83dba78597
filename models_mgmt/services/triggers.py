"""Triggers of the lower flow: every N approved, KPI check, cron schedule."""

import logging

from django_q.models import Schedule

from alweb.exceptions import Conflict
from annotate.models import Project
from annotate.selectors_loop import item_ids_approved_since, items_approved_since_count
from annotate.services.events import event_log
from models_mgmt.models import TrainingSettings
from models_mgmt.selectors import (
    best_model,
    training_last_started_at,
    training_settings_get,
)
from models_mgmt.services.training import evaluate_on_test, training_start
from runs import queues

logger = logging.getLogger(__name__)


def _approved_since_last_training(project: Project) -> list[int]:
    return item_ids_approved_since(
        project=project, since=training_last_started_at(project=project)
    )


def on_items_approved(*, project: Project) -> str | None:
    """Start training when the every-N or KPI trigger fires; returns which fired.
    The KPI check is queued (work cluster) after commit. Runs after every
    approval: with neither trigger set it reads nothing more than the
    settings, and each count stops at the number its trigger needs."""
    settings = training_settings_get(project=project)
    n = settings.trigger_every_n_approved
    kpi = settings.trigger_kpi or {}
    if not n and not kpi:
        return None
    since = training_last_started_at(project=project)

    def fresh(at_least: int) -> bool:
        count = items_approved_since_count(
            project=project, since=since, at_most=at_least
        )
        return count >= at_least

    if n and fresh(n):
        return trigger_fire(project=project, trigger=f"every {n} approved")
    if kpi and best_model(project=project) and fresh(int(kpi.get("min_items", 20))):
        queues.enqueue_on_commit(
            "models_mgmt.tasks.run_kpi_check",
            project.pk,
            queue=queues.WORK,
            group="kpi",
        )
        return "kpi check queued"
    return None


def kpi_check(*, project: Project) -> str | None:
    """Score the best model on items approved since the last training; train if the
    KPI metric falls below the target."""
    settings = training_settings_get(project=project)
    kpi, model = settings.trigger_kpi or {}, best_model(project=project)
    fresh = _approved_since_last_training(project)
    if not kpi or model is None or len(fresh) < kpi.get("min_items", 20):
        return None
    evaluation = evaluate_on_test(model, fresh)
    value = evaluation.metrics.get(kpi["metric"], 0.0)
    event_log(
        project_id=project.pk,
        verb="kpi_checked",
        model=model.pk,
        metric=kpi["metric"],
        value=value,
        target=kpi["target"],
    )
    if value < kpi["target"]:
        reason = f"kpi {kpi['metric']} {value:.3f} < {kpi['target']}"
        return trigger_fire(project=project, trigger=reason)
    return None


def trigger_fire(*, project: Project, trigger: str) -> str | None:
    """Start a training run named by `trigger`; None (logged) when one is already
    active or there is nothing to train on yet."""
    try:
        training_start(project=project, actor=None, trigger=trigger)
        return trigger
    except Conflict as exc:  # already training, or nothing to train on
        logger.info("trigger %s for project %s skipped: %s", trigger, project.pk, exc)
        return None


def cron_schedule_sync(*, settings: TrainingSettings) -> Schedule | None:
    """Keep one django-q2 Schedule per project in step with its cron trigger. The
    schedule runs on the housekeeping (default) cluster; the training it starts
    goes to the training queue."""
    name = f"alweb-train-project-{settings.project_id}"
    if not settings.trigger_cron:
        Schedule.objects.filter(name=name).delete()
        return None
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": "models_mgmt.tasks.cron_train",
            "args": str(settings.project_id),
            "schedule_type": Schedule.CRON,
            "cron": settings.trigger_cron,
            "repeats": -1,
        },
    )
    return schedule
