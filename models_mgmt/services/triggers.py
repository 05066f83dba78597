"""Triggers of the lower flow: every N approved, KPI check, cron schedule."""

import logging

from django.db import transaction
from django_q.models import Schedule

from alweb.exceptions import Conflict
from annotate.models import Item, ItemStatus, Pipeline, Project
from annotate.services.events import event_log
from models_mgmt.models import ModelVersion
from models_mgmt.services.training import evaluate_on_test, training_start
from models_mgmt.services.versions import best_model
from runs import queues

logger = logging.getLogger(__name__)


def _approved_since_last_training(project: Project) -> list[int]:
    last = (
        ModelVersion.objects.filter(project=project, is_base=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    qs = Item.objects.filter(project=project, status=ItemStatus.DONE)
    if last is not None:
        qs = qs.filter(approved_at__gt=last)
    return list(qs.values_list("pk", flat=True))


def on_items_approved(*, project: Project) -> str | None:
    """Start training when the every-N or KPI trigger fires; returns which fired."""
    pipeline = Pipeline.objects.get(project=project)
    fresh = _approved_since_last_training(project)
    n = pipeline.trigger_every_n_approved
    if n and len(fresh) >= n:
        return trigger_fire(project=project, trigger=f"every {n} approved")
    kpi = pipeline.trigger_kpi or {}
    if kpi and best_model(project) and len(fresh) >= kpi.get("min_items", 20):
        from django_q.tasks import async_task

        transaction.on_commit(
            lambda: async_task(
                "models_mgmt.tasks.run_kpi_check",
                project.pk,
                group="kpi",
                cluster=queues.WORK,
            )
        )
        return "kpi check queued"
    return None


def kpi_check(*, project: Project) -> str | None:
    """Score the best model on items approved since the last training; train if the
    KPI metric falls below the target."""
    pipeline = Pipeline.objects.get(project=project)
    kpi, model = pipeline.trigger_kpi or {}, best_model(project)
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
        return trigger_fire(
            project=project,
            trigger=f"kpi {kpi['metric']} {value:.3f} < {kpi['target']}",
        )
    return None


def trigger_fire(*, project: Project, trigger: str) -> str | None:
    try:
        training_start(project=project, actor=None, trigger=trigger)
        return trigger
    except Conflict as exc:  # already training, or nothing to train on
        logger.info("trigger %s for project %s skipped: %s", trigger, project.pk, exc)
        return None


def cron_schedule_sync(*, pipeline: Pipeline) -> Schedule | None:
    """Keep one django-q2 Schedule per project in step with its cron trigger. The
    schedule runs on the housekeeping (default) cluster; the training it starts
    goes to the training queue."""
    name = f"alweb-train-project-{pipeline.project_id}"
    if not pipeline.trigger_cron:
        Schedule.objects.filter(name=name).delete()
        return None
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": "models_mgmt.tasks.cron_train",
            "args": str(pipeline.project_id),
            "schedule_type": Schedule.CRON,
            "cron": pipeline.trigger_cron,
            "repeats": -1,
        },
    )
    return schedule
