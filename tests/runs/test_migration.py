"""Moving Job from annotate to runs keeps every row: a database migrated to the
last state before the move, holding jobs, is migrated forward (and back)."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

JOB_COLUMNS = (
    "id, kind, status, progress, message, error, params, result, model_version_id, "
    "attempts, created_at, started_at, finished_at, heartbeat_at, created_by_id, "
    "project_id"
)
JOBS = [
    (7, "train", "succeeded", 1.0, "done", "", "{}", '{"model_version": 3}', 3, 1),
    (8, "export", "running", 0.5, "", "", '{"format": "yolo"}', "{}", None, 1),
    (9, "score", "failed", 0.2, "", "boom", "{}", "{}", None, 1),
    (10, "train", "queued", 0.0, "", "", '{"trigger": "cron"}', "{}", 4, 0),
]


def _manage(tmp_path, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALWEB_")
        # A server named by the caller's shell is not this SQLite test's.
        and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="alweb.settings",
        ALWEB_VAR_DIR=str(tmp_path),
        ALWEB_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
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


def _seed_before_the_move(db: sqlite3.Connection) -> int:
    now = "2026-11-30 12:00:00"
    db.execute(
        "INSERT INTO annotate_project (id, name, description, labels, kinds, "
        "created_at) VALUES (1, 'Old', '', '[\"a\"]', '[\"box\"]', ?)",
        (now,),
    )
    for row in JOBS:
        *values, attempts = row
        db.execute(
            f"INSERT INTO annotate_job ({JOB_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1)",
            (*values, attempts, now, now, None, now),
        )
    # As on a database created while Job lived in annotate: its content type
    # and permissions are annotate's (migrate has just made them so).
    runs_types = "SELECT id FROM django_content_type WHERE app_label = 'runs'"
    db.execute(f"DELETE FROM auth_permission WHERE content_type_id IN ({runs_types})")
    db.execute("DELETE FROM django_content_type WHERE app_label = 'runs'")
    (ct,) = db.execute(
        "SELECT id FROM django_content_type WHERE app_label = 'annotate' "
        "AND model = 'job'"
    ).fetchone()
    db.execute(
        "INSERT INTO auth_permission (name, content_type_id, codename) "
        "VALUES ('Can stop job', ?, 'stop_job')",
        (ct,),
    )
    db.commit()
    return ct


def test_moving_job_to_runs_keeps_every_row_and_the_constraints(tmp_path):
    _manage(tmp_path, "migrate", "contenttypes", "-v0")
    _manage(tmp_path, "migrate", "annotate", "0002", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    ct = _seed_before_the_move(db)
    db.close()

    _manage(tmp_path, "migrate", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "runs_job" in tables and "annotate_job" not in tables
    rows = db.execute(
        "SELECT id, kind, status, progress, message, error, params, result, "
        "model_version_id, attempt, task, queue, retry_of_id FROM runs_job "
        "ORDER BY id"
    ).fetchall()
    assert [r[:6] for r in rows] == [j[:6] for j in JOBS]
    assert [json.loads(r[6]) for r in rows] == [json.loads(j[6]) for j in JOBS]
    assert [json.loads(r[7]) for r in rows] == [json.loads(j[7]) for j in JOBS]
    assert [r[8] for r in rows] == [j[8] for j in JOBS]
    assert {r[9] for r in rows} == {1} and {r[12] for r in rows} == {None}
    assert [(r[1], r[10], r[11]) for r in rows] == [
        ("train", "models_mgmt.tasks.run_training", "training"),
        ("export", "annotate.tasks.export_run", "work"),
        ("score", "models_mgmt.tasks.run_scoring", "work"),
        ("train", "models_mgmt.tasks.run_training", "training"),
    ]
    assert db.execute(
        "SELECT app_label, model FROM django_content_type WHERE id = ?", (ct,)
    ).fetchall() == [("runs", "job")]
    codenames = db.execute(
        "SELECT codename FROM auth_permission WHERE content_type_id = ?", (ct,)
    ).fetchall()
    assert ("stop_job",) in codenames and ("view_job",) in codenames
    schedule = db.execute(
        "SELECT func, cluster FROM django_q_schedule WHERE name = 'alweb-reaper'"
    ).fetchall()
    assert schedule == [("runs.tasks.reap", None)]
    # Still at most one active run per kind and project (job 10 is queued).
    try:
        db.execute(
            "INSERT INTO runs_job (kind, status, progress, message, error, params, "
            "result, attempt, task, queue, created_at, project_id) VALUES "
            "('train', 'running', 0, '', '', '{}', '{}', 1, '', '', '2026', 1)"
        )
        raise AssertionError("a second active training run was accepted")
    except sqlite3.IntegrityError as exc:
        assert "UNIQUE" in str(exc)
    db.close()

    # And back: the rows return to annotate_job.
    _manage(tmp_path, "migrate", "models_mgmt", "0002", "-v0")
    _manage(tmp_path, "migrate", "annotate", "0002", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    back = db.execute("SELECT id, kind, status FROM annotate_job ORDER BY id")
    assert back.fetchall() == [j[:3] for j in JOBS]
    db.close()
