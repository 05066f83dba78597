"""Moving the training settings from annotate.Pipeline to models_mgmt keeps every
value: a database at the last state before the move, holding projects with
settings (and one project without a pipeline row), is migrated forward and back."""

import json
import sqlite3

from tests.runs.test_migration import _manage

NOW = "2026-12-01 09:00:00"
# project id -> (model_config, comparison_config, cron, every_n, kpi)
SETTINGS = {
    1: ('{"epochs": 3, "imgsz": 320}', '{"metric": "map50", "min_delta": 0.01}',
        "0 3 * * *", 25, '{"metric": "map50", "target": 0.6, "min_items": 20}'),
    2: ("{}", "{}", "", None, "{}"),
}  # fmt: skip


def _seed(db: sqlite3.Connection) -> None:
    for pk in (1, 2, 3):
        db.execute(
            "INSERT INTO annotate_project (id, name, description, labels, kinds, "
            "created_at) VALUES (?, ?, '', '[\"a\"]', '[\"box\"]', ?)",
            (pk, f"P{pk}", NOW),
        )
    for pk, (model, comparison, cron, every, kpi) in SETTINGS.items():
        db.execute(
            "INSERT INTO annotate_pipeline (project_id, strategy, strategy_params, "
            "cold_start_strategy, split_train, split_val, split_test, split_seed, "
            "model_config, comparison_config, trigger_cron, "
            "trigger_every_n_approved, trigger_kpi, updated_at) "
            "VALUES (?, 'margin', '{}', 'random', 0.7, 0.2, 0.1, ?, ?, ?, ?, ?, ?, ?)",
            (pk, 40 + pk, model, comparison, cron, every, kpi, NOW),
        )
    db.commit()


def _rows(db, table: str) -> dict:
    cols = "model_config, comparison_config, trigger_cron, "
    cols += "trigger_every_n_approved, trigger_kpi"
    return {
        pk: (json.loads(m), json.loads(c), cron, n, json.loads(k))
        for pk, m, c, cron, n, k in db.execute(
            f"SELECT project_id, {cols} FROM {table} ORDER BY project_id"
        )
    }


def _expected() -> dict:
    return {
        pk: (json.loads(m), json.loads(c), cron, n, json.loads(k))
        for pk, (m, c, cron, n, k) in SETTINGS.items()
    }


def test_training_settings_move_to_models_mgmt_with_every_value(tmp_path):
    _manage(tmp_path, "migrate", "annotate", "0003", "-v0")
    _manage(tmp_path, "migrate", "models_mgmt", "0003", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    _seed(db)
    db.close()

    _manage(tmp_path, "migrate", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    moved = _rows(db, "models_mgmt_trainingsettings")
    # Every project has its row; the one without a pipeline gets the defaults.
    assert moved == {**_expected(), 3: ({}, {}, "", None, {})}
    columns = {r[1] for r in db.execute("PRAGMA table_info(annotate_pipeline)")}
    assert "trigger_cron" not in columns and "model_config" not in columns
    # annotate's own settings are untouched.
    kept = db.execute(
        "SELECT project_id, strategy, cold_start_strategy, split_train, split_seed "
        "FROM annotate_pipeline ORDER BY project_id"
    ).fetchall()
    assert kept == [(1, "margin", "random", 0.7, 41), (2, "margin", "random", 0.7, 42)]
    db.close()

    # And back: the values return to annotate_pipeline.
    _manage(tmp_path, "migrate", "annotate", "0003", "-v0")
    _manage(tmp_path, "migrate", "models_mgmt", "0003", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "models_mgmt_trainingsettings" not in tables
    back = _rows(db, "annotate_pipeline")
    assert back == {**_expected(), 3: ({}, {}, "", None, {})}
    db.close()
