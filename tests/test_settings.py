"""Start-up assertions: SQLite WAL + IMMEDIATE, queue retry > timeout, deploy check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from alweb.checks import (
    assert_runtime_settings,
    check_runtime_settings,
    q_cluster_problems,
    sqlite_problems,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 20
    assert sqlite_problems() == []


def test_queue_retry_exceeds_timeout(settings):
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
    assert q_cluster_problems() == []


@pytest.mark.django_db
def test_unsafe_queue_settings_refuse_to_start(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600, "retry": 600}
    assert [e.id for e in check_runtime_settings()] == ["alweb.E001"]
    with pytest.raises(ImproperlyConfigured, match="retry"):
        assert_runtime_settings()


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_sqlite_without_immediate_mode_is_reported(settings):
    db = {**settings.DATABASES["default"]}
    db["OPTIONS"] = {**db["OPTIONS"], "transaction_mode": None}
    settings.DATABASES = {"default": db}
    assert any("IMMEDIATE" in p for p in sqlite_problems())


def _manage(*args, env=None, var_dir):
    # Only this test's settings: browser tests set DJANGO_ALLOW_ASYNC_UNSAFE.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALWEB_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    full_env.update(
        {"DJANGO_SETTINGS_MODULE": "alweb.settings", "ALWEB_VAR_DIR": str(var_dir)}
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_secret_key_is_generated_once_outside_the_repo(tmp_path):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        var_dir=tmp_path,
    )
    again = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        var_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(key) >= 50 and key == again.stdout.strip()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", var_dir=tmp_path, env={"ALWEB_REQUIRE_SECRET_KEY": "1"})
    assert result.returncode != 0
    assert "ALWEB_SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        "ALWEB_REQUIRE_SECRET_KEY": "1",
        "ALWEB_SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-" + "y" * 20,
        "ALWEB_HTTPS": "1",
        "ALWEB_ALLOWED_HOSTS": "alweb.example.org",
    }
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", var_dir=tmp_path, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
