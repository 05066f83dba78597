"""Rules of the training settings (model and comparison configuration, triggers),
shared by the API serializer and the HTML form; checked through ml/'s rules."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ml import config as ml_config

KPI_METRICS = ("map50", "map50_95", "precision", "recall")
TRAINING_FIELDS = ("model_config", "comparison_config", "triggers")
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


@dataclass(frozen=True)
class CronPreview:
    """A schedule in words and its next runs (aware datetimes), or why it
    cannot be the schedule (`problem`, the reason a save would give)."""

    expr: str
    words: str = ""
    next_runs: tuple[datetime, ...] = ()
    problem: str | None = None


def cron_preview(expr: str, *, now: datetime | None = None, count: int = 3):
    """What the settings page shows under the cron box: `expr` in words
    (cron-descriptor, 24-hour clock) and its next `count` runs after `now`, in
    the site's time zone; an empty `expr` (no schedule) has neither."""
    from cron_descriptor import ExpressionDescriptor, Options
    from croniter import croniter

    expr = (expr or "").strip()
    if not expr:
        return CronPreview(expr)
    problem = cron_problem(expr)
    if problem:
        return CronPreview(expr, problem=problem)
    options = Options()
    options.use_24hour_time_format = True
    try:
        words = ExpressionDescriptor(expr, options).get_description()
    except Exception:  # noqa: BLE001 - croniter accepts it; the words are a bonus
        words = ""
    start = timezone.localtime(now or timezone.now())
    it = croniter(expr, start)
    runs = tuple(it.get_next(datetime) for _ in range(count))
    return CronPreview(expr, words, runs)


def training_settings_clean(*, data: dict) -> tuple[dict, dict]:
    """Check the training keys of a partial update (API shape).

    Returns (TrainingSettings field values, {API field: reason}); changes nothing.
    """
    errors: dict[str, str] = {}
    out: dict[str, object] = {}
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
            out.update(triggers_clean(data["triggers"]))
        except ValueError as exc:
            errors["triggers"] = str(exc)
    return out, errors


def triggers_clean(triggers) -> dict[str, object]:
    """TrainingSettings field values of a `triggers` object (API shape); raises
    ValueError naming the sub-field ("cron: ...", "kpi.target: ...")."""
    if not isinstance(triggers, dict) or set(triggers) - {
        "cron",
        "every_n_approved",
        "kpi",
    }:
        raise ValueError("must be an object with cron, every_n_approved, kpi")
    out: dict[str, object] = {}
    if "cron" in triggers:
        out["trigger_cron"] = _cron_clean(triggers["cron"])
    if "every_n_approved" in triggers:
        n = triggers["every_n_approved"]
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1_000_000
        ):
            raise ValueError("every_n_approved: an integer from 1 to 1000000, or null")
        out["trigger_every_n_approved"] = n
    if "kpi" in triggers:
        out["trigger_kpi"] = _kpi_clean(triggers["kpi"] or {})
    return out


def _cron_clean(cron) -> str:
    cron = cron or ""
    if not isinstance(cron, str):
        raise ValueError(f"cron: a string of 5 fields ({CRON_FIELDS}) or empty")
    cron = " ".join(cron.split())
    if len(cron) > 100:
        raise ValueError("cron: at most 100 characters")
    problem = cron_problem(cron) if cron else None
    if problem:
        raise ValueError(problem)
    return cron


def _kpi_clean(kpi) -> dict:
    if not isinstance(kpi, dict) or (
        kpi and set(kpi) - {"metric", "target", "min_items"}
    ):
        raise ValueError("kpi: an object with metric, target, min_items")
    if not kpi:
        return {}
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
    return {"metric": kpi["metric"], "target": float(target), "min_items": min_items}
