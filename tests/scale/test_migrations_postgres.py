"""The migrations on PostgreSQL with rows in the tables: a fresh database of its
own on the test server, migrated to the last state before Job moved to runs,
holding jobs, is migrated forward (rows, constraints, and the id sequence of the
renamed table) and back. tests/runs/test_migration.py does the same on SQLite;
every other test's database is migrated from empty by pytest-django."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from tests.conftest import engine_missing
from tests.runs.test_migration import JOB_COLUMNS, JOBS

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database():
    """DATABASE_URL of a new, empty database on the test server (dropped after)."""
    if connection.vendor != "postgresql":
        engine_missing("migrations on PostgreSQL need DATABASE_URL")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"alweb_migrate_{os.getpid()}"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(url, tmp_path, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALWEB_") and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)
    }
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="alweb.settings",
        ALWEB_VAR_DIR=str(tmp_path),
        DATABASE_URL=url,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _seed_before_the_move(db) -> int:
    now = "2026-11-30 12:00:00+00"
    db.execute(
        "INSERT INTO annotate_project (id, name, description, labels, kinds, "
        "created_at) VALUES (1, 'Old', '', '[\"a\"]', '[\"box\"]', %s)",
        (now,),
    )
    for row in JOBS:
        *values, attempts = row
        db.execute(
            f"INSERT INTO annotate_job ({JOB_COLUMNS}) OVERRIDING SYSTEM VALUE "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, 1)",
            (*values, attempts, now, now, None, now),
        )
    # As a database created while Job lived in annotate: its content type is
    # annotate's. The id sequence goes on after the highest id, as it would.
    db.execute("SELECT setval(pg_get_serial_sequence('annotate_job', 'id'), 10)")
    runs_types = "SELECT id FROM django_content_type WHERE app_label = 'runs'"
    db.execute(f"DELETE FROM auth_permission WHERE content_type_id IN ({runs_types})")
    db.execute("DELETE FROM django_content_type WHERE app_label = 'runs'")
    (ct,) = db.execute(
        "SELECT id FROM django_content_type WHERE app_label = 'annotate' "
        "AND model = 'job'"
    ).fetchone()
    db.commit()
    return ct


def test_moving_job_to_runs_keeps_rows_constraints_and_ids_on_postgresql(
    database, tmp_path
):
    _manage(database, tmp_path, "migrate", "contenttypes", "-v0")
    _manage(database, tmp_path, "migrate", "annotate", "0002", "-v0")
    with psycopg.connect(database) as db:
        ct = _seed_before_the_move(db)

    _manage(database, tmp_path, "migrate", "-v0")
    with psycopg.connect(database, autocommit=True) as db:
        tables = {
            r[0]
            for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        assert "runs_job" in tables and "annotate_job" not in tables
        rows = db.execute(
            "SELECT id, kind, status, progress, message, error, params, result, "
            "model_version_id, attempt, task, queue, retry_of_id FROM runs_job "
            "ORDER BY id"
        ).fetchall()
        assert [r[:6] for r in rows] == [j[:6] for j in JOBS]
        assert [r[6] for r in rows] == [json.loads(j[6]) for j in JOBS]
        assert [r[7] for r in rows] == [json.loads(j[7]) for j in JOBS]
        assert {r[9] for r in rows} == {1} and {r[12] for r in rows} == {None}
        assert [(r[10], r[11]) for r in rows] == [
            ("models_mgmt.tasks.run_training", "training"),
            ("annotate.tasks.export_run", "work"),
            ("models_mgmt.tasks.run_scoring", "work"),
            ("models_mgmt.tasks.run_training", "training"),
        ]
        assert db.execute(
            "SELECT app_label, model FROM django_content_type WHERE id = %s", (ct,)
        ).fetchall() == [("runs", "job")]
        # The renamed table's ids go on after the old rows.
        (new_id,) = db.execute(
            "INSERT INTO runs_job (kind, status, progress, message, error, params, "
            "result, attempt, task, queue, created_at, project_id) VALUES "
            "('export', 'succeeded', 1, '', '', '{}', '{}', 1, '', '', now(), 1) "
            "RETURNING id"
        ).fetchone()
        assert new_id == 11
        # Still at most one active run per kind and project (job 10 is queued).
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute(
                "INSERT INTO runs_job (kind, status, progress, message, error, "
                "params, result, attempt, task, queue, created_at, project_id) "
                "VALUES ('train', 'running', 0, '', '', '{}', '{}', 1, '', '', "
                "now(), 1)"
            )
        db.execute("DELETE FROM runs_job WHERE id = 11")

    # And back: the rows return to annotate_job.
    _manage(database, tmp_path, "migrate", "models_mgmt", "0002", "-v0")
    _manage(database, tmp_path, "migrate", "annotate", "0002", "-v0")
    with psycopg.connect(database) as db:
        back = db.execute("SELECT id, kind, status FROM annotate_job ORDER BY id")
        assert back.fetchall() == [j[:3] for j in JOBS]
