"""Settings for alweb, read from the environment (see README "Configuration")."""

import os
import secrets
from pathlib import Path

import dj_database_url

from alweb.sqlite import SQLITE_ENGINES

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


# Everything the app writes (database, media, secret, ultralytics config) lives here.
VAR_DIR = Path(env_str("ALWEB_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, or one generated once into var/ (git-ignored).

    Production deployments set ALWEB_REQUIRE_SECRET_KEY=1 so a missing key is an
    error instead of a generated file.
    """
    key = env_str("ALWEB_SECRET_KEY") or env_str("SECRET_KEY")
    if key:
        return key
    if env_bool("ALWEB_REQUIRE_SECRET_KEY"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("ALWEB_SECRET_KEY must be set in the environment")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("ALWEB_DEBUG", False)
ALLOWED_HOSTS = env_list("ALWEB_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("ALWEB_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_q",
    "alweb.apps.AlwebConfig",
    "runs.apps.RunsConfig",
    "annotate.apps.AnnotateConfig",
    "models_mgmt.apps.ModelsMgmtConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "alweb.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "alweb.middleware.LoginRequiredMiddleware",
    "alweb.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "alweb.urls"
WSGI_APPLICATION = "alweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite in WAL mode with IMMEDIATE transactions by default (asserted at start-up,
# see alweb/checks.py); DATABASE_URL switches to PostgreSQL without code changes.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous="
        + env_str("ALWEB_SQLITE_SYNCHRONOUS", "NORMAL")
        + "; PRAGMA foreign_keys=ON;"
    ),
}
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "alweb.sqlite",
            "NAME": env_str("ALWEB_SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
if DATABASES["default"]["ENGINE"] in SQLITE_ENGINES:
    # alweb.sqlite: Django's backend, retrying a busy BEGIN every ms
    # (alweb/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "alweb.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # Persistent connections (one per gunicorn thread): opening one costs ~2.6 ms
    # of CPU (connect, the PRAGMAs, parsing the schema) and starts a cold page
    # cache, on every request when CONN_MAX_AGE is 0 (bench/drill_annotators.py).
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("ALWEB_SQLITE_CONN_MAX_AGE", 600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # No JIT compilation: every query here runs in milliseconds, and PostgreSQL
    # compiles one whose estimated cost passes jit_above_cost (the split count
    # of an approval at 100k items: 8.5 ms of JIT in a 46 ms query; 62-71 ms
    # with it, 40 without, bench/RESULTS.md).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c jit=off").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "alweb.auth.ProjectRoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation." + name}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotate:project-list"
LOGOUT_REDIRECT_URL = "login"
# Failed logins per username and per client address before a lock of exactly
# LOGIN_LOCK_SECONDS (also the window failures are counted in); alweb/views.py.
LOGIN_MAX_FAILURES = env_int("ALWEB_LOGIN_MAX_FAILURES", 10)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("ALWEB_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
LOGIN_LOCK_SECONDS = env_int("ALWEB_LOGIN_LOCK_SECONDS", 900)
# Who may create projects: "everyone" signed in, or "staff" (is_staff or
# superuser accounts only); alweb.auth.may_create_projects.
ALWEB_PROJECT_CREATORS = env_str("ALWEB_PROJECT_CREATORS", "everyone").strip().lower()
if ALWEB_PROJECT_CREATORS not in ("everyone", "staff"):
    raise ValueError("ALWEB_PROJECT_CREATORS must be 'everyone' or 'staff'")
# How long an invite link (members page, POST /api/v1/projects/{id}/invites/)
# lets the new account set its first password; alweb/accounts.py.
ALWEB_INVITE_MAX_AGE_SECONDS = env_int("ALWEB_INVITE_MAX_AGE_SECONDS", 7 * 24 * 3600)
# The client address is the last X-Forwarded-For entry only behind a proxy.
LOGIN_ADDRESS_FROM_X_FORWARDED_FOR = env_bool("ALWEB_BEHIND_PROXY", False)

# --- Security headers -----------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Behind TLS (ALWEB_HTTPS=1): secure cookies, HSTS and redirects.
ALWEB_HTTPS = env_bool("ALWEB_HTTPS", False)
SESSION_COOKIE_SECURE = ALWEB_HTTPS
CSRF_COOKIE_SECURE = ALWEB_HTTPS
SECURE_SSL_REDIRECT = ALWEB_HTTPS
SECURE_HSTS_SECONDS = 31536000 if ALWEB_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = ALWEB_HTTPS
SECURE_HSTS_PRELOAD = ALWEB_HTTPS
if env_bool("ALWEB_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# --- Uploads --------------------------------------------------------------------
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("ALWEB_MAX_FILES_PER_REQUEST", 100)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # non-file request bodies
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
ALWEB_MAX_UPLOAD_BYTES = env_int("ALWEB_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
ALWEB_MAX_IMAGE_BYTES = env_int("ALWEB_MAX_IMAGE_BYTES", 50 * 1024 * 1024)
ALWEB_MAX_IMAGE_PIXELS = env_int("ALWEB_MAX_IMAGE_PIXELS", 64_000_000)
ALWEB_MAX_SHAPES_PER_ITEM = env_int("ALWEB_MAX_SHAPES_PER_ITEM", 1000)
ALWEB_MAX_POLYGON_POINTS = env_int("ALWEB_MAX_POLYGON_POINTS", 1000)
ALWEB_LEASE_SECONDS = env_int("ALWEB_LEASE_SECONDS", 600)
# A rejected item waits this long for its original annotator before others get it.
ALWEB_REJECT_GRACE_SECONDS = env_int("ALWEB_REJECT_GRACE_SECONDS", 3600)

# --- Static and media -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env_bool("ALWEB_WHITENOISE_USE_FINDERS", False)
# Media is never served by URL: images go through a view that checks membership.
MEDIA_ROOT = Path(env_str("ALWEB_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"

# --- REST framework --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON (the schema says so: alweb.schema.AutoSchema); form bodies
    # are still parsed so that every request limit answers 413 / 400 alike.
    "DEFAULT_PARSER_CLASSES": [
        "alweb.api.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "alweb.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "alweb.schema.AutoSchema",
    # ?format= is the export's format, never a renderer choice.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "alweb API",
    "DESCRIPTION": "Human-in-the-loop image annotation with an active-learning loop.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own, without the read-only fields.
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "schemas": {
            "ValidationError": {
                "type": "object",
                "description": "Each bad field with its reasons (non_field_errors: "
                "the body as a whole; detail: a body that could not be parsed).",
                "additionalProperties": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "string"},
                    ]
                },
            }
        }
    },
    # Choice sets that share a field name keep distinct, stable component names.
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "annotate.models.TaskKind",
        "ShapeKindEnum": "annotate.models.KIND_CHOICES",
        "ItemStatusEnum": "annotate.models.ItemStatus",
        "StatusEnum": "models_mgmt.models.ModelStatus",
        "RunKindEnum": "runs.models.JobKind",
        "RunStatusEnum": "runs.models.JobStatus",
        "StrategyEnum": "ml.selection.STRATEGY_NAMES",
        "SplitEnum": "annotate.models.Split",
        "ImportSplitEnum": "annotate.services.imports.IMPORT_SPLITS",
    },
}

# --- Background work (django-q2) ---------------------------------------------------
# Four clusters (queues), one `qcluster` process each (Q_CLUSTER_NAME selects):
# the default one ("alweb") does housekeeping: the reaper and every schedule, so
# no long task can delay them; "training" runs training on the CPU, "gpu" on an
# accelerator (only GPU hosts serve it); "work" runs scoring,
# exports, imports and KPI checks (runs/queues.py). For each, `retry` must exceed
# `timeout` (asserted at start-up): otherwise a long task is handed to a second
# worker while the first still runs it.
Q_TIMEOUT = env_int("ALWEB_Q_TIMEOUT", 6 * 3600)
Q_RETRY = env_int("ALWEB_Q_RETRY", Q_TIMEOUT + 600)
Q_WORKERS = env_int("ALWEB_Q_WORKERS", 1)


def _queue_settings(name: str, *, workers: int, timeout: int, retry: int) -> dict:
    """Per-queue overrides: ALWEB_Q_<NAME>_WORKERS, _TIMEOUT and _RETRY (a queue
    whose timeout is set but not its retry gets timeout + 600)."""
    prefix = f"ALWEB_Q_{name.upper()}_"
    if env_str(prefix + "TIMEOUT"):
        timeout = env_int(prefix + "TIMEOUT", timeout)
        retry = timeout + 600
    return {
        "workers": env_int(prefix + "WORKERS", workers),
        "timeout": timeout,
        "retry": env_int(prefix + "RETRY", retry),
    }


Q_CLUSTER = {
    "name": "alweb",
    **_queue_settings("housekeeping", workers=1, timeout=600, retry=1200),
    "recycle": 50,
    "max_attempts": 2,
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "sync": env_bool("ALWEB_Q_SYNC", False),
    "poll": 1,
    "orm": "default",
    "ALT_CLUSTERS": {
        "training": _queue_settings(
            "training", workers=Q_WORKERS, timeout=Q_TIMEOUT, retry=Q_RETRY
        ),
        "work": _queue_settings(
            "work", workers=max(2, Q_WORKERS), timeout=Q_TIMEOUT, retry=Q_RETRY
        ),
        # Training on an accelerator: served only by hosts with a GPU.
        "gpu": _queue_settings("gpu", workers=1, timeout=Q_TIMEOUT, retry=Q_RETRY),
    },
}
# CPU priority (the Unix nice value, 0-19) of each cluster's worker processes,
# set as each worker starts (runs/queues.py): training, scoring and exports yield
# the CPU to the web processes and the housekeeping cluster on a shared host when
# the CPU runs out. (It does not keep a CPU training from slowing the annotators'
# requests down: bench/RESULTS.md, "Background work at nice 10".)
# ALWEB_Q_<QUEUE>_NICE overrides; a worker never lowers the value it inherited
# (an unprivileged process cannot).
ALWEB_Q_NICE = {
    "alweb": env_int("ALWEB_Q_HOUSEKEEPING_NICE", 0),
    "training": env_int("ALWEB_Q_TRAINING_NICE", 10),
    "work": env_int("ALWEB_Q_WORK_NICE", 10),
    "gpu": env_int("ALWEB_Q_GPU_NICE", 10),
}
_redis_url = env_str("REDIS_URL")
if _redis_url:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = _redis_url
    # django-q2's Redis broker, riding out an outage (a cluster started while
    # Redis is down would exit for good): runs/broker.py.
    Q_CLUSTER["broker_class"] = "runs.broker.Redis"
# A run whose heartbeat is older than this is considered dead (its worker died).
ALWEB_HEARTBEAT_STALE_SECONDS = env_int("ALWEB_HEARTBEAT_STALE_SECONDS", 120)

# --- ML -------------------------------------------------------------------------------
ALWEB_ML_DEVICE = env_str("ALWEB_ML_DEVICE", "cpu")
YOLO_CONFIG_DIR = Path(env_str("YOLO_CONFIG_DIR", str(VAR_DIR / "ultralytics")))

# --- i18n / misc ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("ALWEB_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ALWEB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
    },
}

# Shared by all web processes (login lock counters): the database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "alweb_cache",
    }
}

# The ML backend module (framework-free interface in ml/backends/).
ALWEB_ML_BACKEND = env_str("ALWEB_ML_BACKEND", "ml.backends.ultralytics")
# Images predicted per batch when (re-)scoring the pool.
ALWEB_SCORING_BATCH = env_int("ALWEB_SCORING_BATCH", 16)
# Model boxes shown as pre-annotations: at least this confident, at most N per item.
ALWEB_PREANNOTATION_MIN_CONF = float(env_str("ALWEB_PREANNOTATION_MIN_CONF", "0.1"))
ALWEB_PREANNOTATION_MAX_PER_ITEM = env_int("ALWEB_PREANNOTATION_MAX_PER_ITEM", 50)
# Where the label page's model-confidence slider starts (each browser then keeps
# its own): pre-annotations below it are hidden and not submitted.
ALWEB_PREANNOTATION_THRESHOLD = float(env_str("ALWEB_PREANNOTATION_THRESHOLD", "0.25"))
# A pre-annotation overlapping a more confident one of the same label by at
# least this IoU is a duplicate and not shown (scoring's NMS keeps up to 0.7).
ALWEB_PREANNOTATION_MAX_IOU = float(env_str("ALWEB_PREANNOTATION_MAX_IOU", "0.5"))
# Zip archives, imports and exports (see annotate/services/uploads.py, exports.py).
ALWEB_MAX_ZIP_ENTRIES = env_int("ALWEB_MAX_ZIP_ENTRIES", 10_000)
ALWEB_MAX_ZIP_BYTES = env_int("ALWEB_MAX_ZIP_BYTES", 2 * 1024**3)
ALWEB_MAX_ZIP_RATIO = env_int("ALWEB_MAX_ZIP_RATIO", 100)
ALWEB_MAX_IMPORT_BYTES = env_int("ALWEB_MAX_IMPORT_BYTES", 100 * 1024**2)
ALWEB_EXPORT_SYNC_MAX_ITEMS = env_int("ALWEB_EXPORT_SYNC_MAX_ITEMS", 5000)

# Wiring: the readers of projects and memberships that alweb's auth backend and API
# helper call (alweb imports no app; the app that owns the tables answers).
ALWEB_MEMBERSHIP_ROLE = "annotate.selectors.membership_role"
ALWEB_PROJECT_FOR_USER = "annotate.selectors.project_get_for_user"
# Whether a project has click-to-segment weights (the label page's Segment tool):
# models_mgmt answers; annotate reads it through this name, never importing it.
ALWEB_SEGMENTER_PRESENT = "models_mgmt.selectors.segmenter_present"
