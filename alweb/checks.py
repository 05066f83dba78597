"""Start-up checks: SQLite in WAL + IMMEDIATE mode, and for each django-q2 cluster
(queue) retry > timeout."""

from django.conf import settings
from django.core import checks
from django.db import connections

from alweb.sqlite import SQLITE_ENGINES


def sqlite_problems() -> list[str]:
    """Reasons the default SQLite database is unsafe for concurrent work, if any."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] not in SQLITE_ENGINES:
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


# Names of the django-q2 clusters that the apps send work to, registered by the
# app that sends it (runs, in its AppConfig.ready): alweb imports no app.
_REQUIRED_QUEUES: list[str] = []


def queues_required(*names: str) -> None:
    """Declare clusters that must be configured (Q_CLUSTER["ALT_CLUSTERS"])."""
    _REQUIRED_QUEUES.extend(n for n in names if n not in _REQUIRED_QUEUES)


def q_cluster_problems() -> list[str]:
    """Reasons the django-q2 clusters are unsafe: for the default one and each of
    ALT_CLUSTERS (with the defaults they inherit), `retry` must exceed `timeout`;
    each cluster's worker nice value (ALWEB_Q_NICE) must lie in 0-19; every
    queue declared with queues_required() (runs/queues.py) must be configured."""
    q = settings.Q_CLUSTER
    alt = q.get("ALT_CLUSTERS") or {}
    clusters = {q.get("name", "default"): q}
    clusters.update({name: {**q, **(conf or {})} for name, conf in alt.items()})
    problems = []
    for name, conf in clusters.items():
        timeout, retry = conf.get("timeout"), conf.get("retry")
        where = "Q_CLUSTER" if conf is q else f"Q_CLUSTER cluster {name!r}"
        if timeout is None or retry is None:
            problems.append(f"{where} must set both 'timeout' and 'retry'")
        elif retry <= timeout:
            problems.append(f"{where} retry ({retry}) must exceed timeout ({timeout})")
    for name, nice in settings.ALWEB_Q_NICE.items():
        if not isinstance(nice, int) or not 0 <= nice <= 19:
            problems.append(
                f"ALWEB_Q_NICE[{name!r}] must be a whole number from 0 to 19,"
                f" not {nice!r}"
            )
    missing = [name for name in _REQUIRED_QUEUES if name not in alt]
    if missing and not q.get("sync"):
        problems.append(
            f"Q_CLUSTER['ALT_CLUSTERS'] lacks the queues {', '.join(missing)}"
        )
    return problems


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
