"""Test settings: a private var/ dir, file SQLite, django-q2 in sync mode."""

import os
import tempfile

os.environ.setdefault("ALWEB_Q_SYNC", "1")
os.environ.setdefault("ALWEB_VAR_DIR", tempfile.mkdtemp(prefix="alweb-test-"))

from alweb.settings import *  # noqa: E402,F403
from alweb.settings import DATABASES, STATIC_ROOT, VAR_DIR  # noqa: E402

# A file database (not :memory:) so that a real qcluster process can share it.
if DATABASES["default"]["ENGINE"] == "alweb.sqlite":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # A test database of this run's own on the server (DATABASE_URL): a pytest
    # started by a test (tests/test_determinism.py), or a second run on the same
    # server, must not drop it. Subprocesses (qcluster, gunicorn) are pointed at
    # it by tests/runs/qclusters.py:database_env().
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    }
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
