"""Pipeline settings and label edits, validated through the framework-free ml/ rules."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.models import Annotation, Pipeline, Project
from annotate.services.events import event_log
from ml import config as ml_config
from ml import selection, splits

KPI_METRICS = ("map50", "map50_95", "precision", "recall")
PIPELINE_FIELDS = {
    "strategy",
    "strategy_params",
    "cold_start_strategy",
    "split",
    "model_config",
    "comparison_config",
    "triggers",
}


CRON_FIELDS = "minute hour day-of-month month day-of-week"
INT64_MAX = 2**63 - 1


def cron_problem(expr: str) -> str | None:
    """Why `expr` cannot be the training schedule, or None when it can.

    Accepted: exactly five fields (CRON_FIELDS) in croniter's syntax that fire at
    least once. croniter alone also takes a sixth (seconds) field, and django-q2
    raises CroniterBadDateError when saving a Schedule that never fires (30
    February): both are refused here, before anything is saved.
    """
    from croniter import CroniterBadDateError, croniter

    fields = expr.split()
    if len(fields) != 5:
        return f"cron: exactly 5 fields ({CRON_FIELDS}), got {len(fields)}"
    invalid = f"cron: not a valid cron expression ({CRON_FIELDS})"
    try:
        if not croniter.is_valid(expr):
            return invalid
        # croniter gives up after 50 years without a match (its default).
        croniter(expr, timezone.now()).get_next(datetime)
    except CroniterBadDateError:
        return "cron: never fires (no date matches, e.g. 30 February)"
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return invalid
    return None


def pipeline_clean(*, pipeline: Pipeline, data: dict) -> dict[str, object]:
    """Validate a partial update (API shape) and return model field values.

    Raises ValidationError({field: reason}) naming every bad field; nothing is saved.
    """
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": "expected a JSON object"})
    errors: dict[str, str] = {}
    out: dict[str, object] = {}
    unknown = set(data) - PIPELINE_FIELDS - {"best_model"}
    for key in sorted(unknown):
        errors[key] = "unknown field"
    strategy = data.get("strategy", pipeline.strategy)
    params = data.get("strategy_params", pipeline.strategy_params)
    if "strategy" in data or "strategy_params" in data:
        if not isinstance(strategy, str) or strategy not in selection.STRATEGIES:
            errors["strategy"] = "must be one of " + ", ".join(
                sorted(selection.STRATEGIES)
            )
        else:
            try:
                out["strategy_params"] = selection.validate_strategy_params(
                    strategy, params if params is not None else {}
                )
                out["strategy"] = strategy
            except (ValueError, TypeError) as exc:
                errors["strategy_params"] = str(exc)
    if "cold_start_strategy" in data:
        cold = data["cold_start_strategy"]
        if cold not in ("diversity", "random"):
            errors["cold_start_strategy"] = "must be diversity or random"
        else:
            out["cold_start_strategy"] = cold
    if "split" in data:
        split = data["split"]
        if not isinstance(split, dict) or set(split) - {"train", "val", "test", "seed"}:
            errors["split"] = "must be an object with train, val, test, seed"
        else:
            ratios = {
                "train": split.get("train", pipeline.split_train),
                "val": split.get("val", pipeline.split_val),
                "test": split.get("test", pipeline.split_test),
            }
            seed = split.get("seed", pipeline.split_seed)
            try:
                ratios = splits.validate_split_ratios(ratios)
                if isinstance(seed, bool) or not isinstance(seed, int):
                    raise ValueError("seed must be an integer")
                if not -(2**31) <= seed < 2**31:
                    raise ValueError("seed out of range")
                out.update(
                    split_train=ratios["train"],
                    split_val=ratios["val"],
                    split_test=ratios["test"],
                    split_seed=seed,
                )
            except (ValueError, TypeError) as exc:
                errors["split"] = str(exc)
    for field, validate in (
        ("model_config", ml_config.validate_model_config),
        ("comparison_config", ml_config.validate_comparison_config),
    ):
        if field in data:
            try:
                if not isinstance(data[field], dict):
                    raise ValueError("must be an object")
                validate(data[field])
                out[field] = data[field]
            except (ValueError, TypeError) as exc:
                errors[field] = str(exc)
    if "triggers" in data:
        try:
            out.update(_clean_triggers(data["triggers"]))
        except ValueError as exc:
            errors["triggers"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return out


def _clean_triggers(triggers) -> dict[str, object]:
    if not isinstance(triggers, dict) or set(triggers) - {
        "cron",
        "every_n_approved",
        "kpi",
    }:
        raise ValueError("must be an object with cron, every_n_approved, kpi")
    out: dict[str, object] = {}
    if "cron" in triggers:
        cron = triggers["cron"] or ""
        if not isinstance(cron, str):
            raise ValueError(f"cron: a string of 5 fields ({CRON_FIELDS}) or empty")
        cron = " ".join(cron.split())
        if len(cron) > 100:
            raise ValueError("cron: at most 100 characters")
        problem = cron_problem(cron) if cron else None
        if problem:
            raise ValueError(problem)
        out["trigger_cron"] = cron
    if "every_n_approved" in triggers:
        n = triggers["every_n_approved"]
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1_000_000
        ):
            raise ValueError("every_n_approved: an integer from 1 to 1000000, or null")
        out["trigger_every_n_approved"] = n
    if "kpi" in triggers:
        kpi = triggers["kpi"] or {}
        if not isinstance(kpi, dict) or (
            kpi and set(kpi) - {"metric", "target", "min_items"}
        ):
            raise ValueError("kpi: an object with metric, target, min_items")
        if kpi:
            if kpi.get("metric") not in KPI_METRICS:
                raise ValueError("kpi.metric: one of " + ", ".join(KPI_METRICS))
            target = kpi.get("target")
            if (
                isinstance(target, bool)
                or not isinstance(target, int | float)
                or not (0 <= target <= 1)
            ):
                raise ValueError("kpi.target: a number from 0 to 1")
            min_items = kpi.get("min_items", 20)
            if (
                isinstance(min_items, bool)
                or not isinstance(min_items, int)
                or not 1 <= min_items <= INT64_MAX
            ):
                raise ValueError(f"kpi.min_items: an integer from 1 to {INT64_MAX}")
            kpi = {
                "metric": kpi["metric"],
                "target": float(target),
                "min_items": min_items,
            }
        out["trigger_kpi"] = kpi
    return out


@transaction.atomic
def pipeline_update(*, project: Project, actor, data: dict) -> Pipeline:
    """Apply a validated partial update to the project's pipeline settings.

    Raises ValidationError naming the fields; on error nothing changes.
    """
    pipeline = Pipeline.objects.select_for_update().get(project=project)
    values = pipeline_clean(pipeline=pipeline, data=data)
    for field, value in values.items():
        setattr(pipeline, field, value)
    pipeline.full_clean()
    pipeline.save()
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="pipeline_updated",
        fields=sorted(values),
    )
    return pipeline


@transaction.atomic
def project_labels_update(*, project: Project, actor, labels: list[str]) -> Project:
    """Replace the label list: renames are not inferred; a label still used by an
    annotation cannot be removed (ValidationError names it)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    removed = set(project.labels) - set(labels or [])
    in_use = sorted(
        set(
            Annotation.objects.filter(
                item__project=project, label__in=removed
            ).values_list("label", flat=True)
        )
    )
    if in_use:
        raise ValidationError(
            {"labels": f"labels in use cannot be removed: {', '.join(in_use)}"}
        )
    project.labels = labels
    project.full_clean()
    project.save(update_fields=["labels"])
    event_log(project_id=project.pk, actor=actor, verb="labels_updated", labels=labels)
    return project


def pipeline_for_project(project: Project) -> Pipeline:
    pipeline, _ = Pipeline.objects.get_or_create(project=project)
    return pipeline


def pipeline_as_dict(pipeline: Pipeline, best_model_id: int | None) -> dict:
    """The pipeline in the API's shape."""
    return {
        "strategy": pipeline.strategy,
        "strategy_params": pipeline.strategy_params,
        "cold_start_strategy": pipeline.cold_start_strategy,
        "split": {
            "train": pipeline.split_train,
            "val": pipeline.split_val,
            "test": pipeline.split_test,
            "seed": pipeline.split_seed,
        },
        "model_config": pipeline.model_config,
        "comparison_config": pipeline.comparison_config,
        "triggers": {
            "cron": pipeline.trigger_cron,
            "every_n_approved": pipeline.trigger_every_n_approved,
            "kpi": pipeline.trigger_kpi,
        },
        "best_model": best_model_id,
    }
