"""Start-up checks: SQLite in WAL + IMMEDIATE mode and django-q2 retry > timeout."""

from django.conf import settings
from django.core import checks
from django.db import connections


def sqlite_problems() -> list[str]:
    """Reasons the default SQLite database is unsafe for concurrent work, if any."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        return []
    problems = []
    options = db.get("OPTIONS", {})
    if options.get("transaction_mode") != "IMMEDIATE":
        problems.append("SQLite must use OPTIONS['transaction_mode'] = 'IMMEDIATE'")
    if not options.get("timeout"):
        problems.append("SQLite must set a busy timeout (OPTIONS['timeout'])")
    name = str(db.get("NAME") or "")
    if name and name != ":memory:" and not name.startswith("file:memorydb"):
        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
        if str(mode).lower() != "wal":
            problems.append(f"SQLite journal_mode is {mode!r}, expected 'wal'")
    return problems


def q_cluster_problems() -> list[str]:
    q = settings.Q_CLUSTER
    timeout, retry = q.get("timeout"), q.get("retry")
    if timeout is None or retry is None:
        return ["Q_CLUSTER must set both 'timeout' and 'retry'"]
    if retry <= timeout:
        return [f"Q_CLUSTER retry ({retry}) must exceed timeout ({timeout})"]
    return []


@checks.register()
def check_runtime_settings(app_configs=None, **kwargs):
    errors = []
    for i, msg in enumerate(q_cluster_problems()):
        errors.append(checks.Error(msg, id=f"alweb.E00{i + 1}"))
    try:
        problems = sqlite_problems()
    except Exception as exc:  # a broken database is reported, not raised
        problems = [f"could not inspect the database: {exc}"]
    for i, msg in enumerate(problems):
        errors.append(checks.Error(msg, id=f"alweb.E01{i}"))
    return errors


def assert_runtime_settings() -> None:
    """Refuse to start (web or worker) with unsafe database or queue settings."""
    problems = q_cluster_problems() + sqlite_problems()
    if problems:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("; ".join(problems))
