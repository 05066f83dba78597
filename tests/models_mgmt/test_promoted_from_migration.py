"""The promotion chain of versions promoted before ModelVersion.promoted_from
existed is read back from their model_promoted events, so roll back works on
them: a database at 0005 with events is migrated forward."""

import json
import sqlite3

from tests.runs.test_migration import _manage

NOW = "2026-12-01 09:00:00"


def _insert(db, table: str, values: dict) -> None:
    """A row with `values` and a neutral value in every other NOT NULL column."""
    for _cid, name, kind, notnull, default, pk in db.execute(
        f"PRAGMA table_info({table})"
    ):
        if name in values or not notnull or pk or default is not None:
            continue
        kind = kind.lower()
        if "int" in kind or "bool" in kind or "real" in kind or "decimal" in kind:
            values[name] = 0
        elif "datetime" in kind:
            values[name] = NOW
        elif name in ("config", "metrics", "losses", "data"):
            values[name] = "{}"
        elif name.endswith("_ids") or name in ("class_names", "history", "kinds"):
            values[name] = "[]"
        else:
            values[name] = ""
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(values.values()))


def test_promoted_from_is_filled_from_the_promotion_events(tmp_path):
    _manage(tmp_path, "migrate", "-v0")
    _manage(tmp_path, "migrate", "models_mgmt", "0005", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    _insert(db, "annotate_project", {"id": 1, "name": "P", "labels": '["a"]'})
    for pk in (1, 2, 3):
        _insert(
            db,
            "models_mgmt_modelversion",
            {"id": pk, "project_id": 1, "number": pk, "name": f"v{pk}",
             "status": "done", "is_best": pk == 2},
        )  # fmt: skip
    promotions = [
        (1, None, "comparison"),
        (3, 1, "comparison"),
        (2, 3, "manual"),
        (3, 2, "roll back"),  # a roll back does not rewrite the chain
        (2, 3, "manual"),
    ]
    for n, (model, previous, reason) in enumerate(promotions, start=1):
        data = {"model": model, "previous": previous, "reason": reason}
        _insert(
            db,
            "annotate_event",
            {"id": n, "project_id": 1, "verb": "model_promoted",
             "data": json.dumps(data), "created_at": f"2026-12-01 09:00:0{n}"},
        )  # fmt: skip
    db.commit()
    db.close()

    _manage(tmp_path, "migrate", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    chain = dict(
        db.execute("SELECT id, promoted_from_id FROM models_mgmt_modelversion")
    )
    db.close()
    assert chain == {1: None, 2: 3, 3: 1}
