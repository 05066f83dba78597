"""Items scored before Item.ood existed get their OOD score in the new column:
a database at annotate 0018 with scored and unscored items is migrated
forward (SQLite remakes the table; the column is computed for every row)."""

import json
import sqlite3

from tests.models_mgmt.test_promoted_from_migration import _insert
from tests.runs.test_migration import _manage


def test_items_scored_before_the_column_get_their_ood_score(tmp_path):
    _manage(tmp_path, "migrate", "-v0")
    _manage(tmp_path, "migrate", "annotate", "0018", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    _insert(db, "annotate_project", {"id": 1, "name": "P", "labels": '["a"]'})
    components = {
        1: {"ood": 0.97, "rare": 0.1},
        2: {"rare": 0.2},  # scored before OOD scores: no column value
        3: {},
        4: {"ood": 0},
    }
    for pk, scores in components.items():
        _insert(
            db,
            "annotate_item",
            {"id": pk, "project_id": 1, "width": 8, "height": 8,
             "checksum": f"c{pk}", "status": "unlabeled", "priority_reason": "{}",
             "score_components": json.dumps(scores)},
        )  # fmt: skip
    db.commit()
    db.close()

    _manage(tmp_path, "migrate", "-v0")
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    ood = dict(db.execute("SELECT id, ood FROM annotate_item"))
    kept = dict(db.execute("SELECT id, score_components FROM annotate_item"))
    indexes = {row[1] for row in db.execute("PRAGMA index_list(annotate_item)")}
    db.close()
    assert ood == {1: 0.97, 2: None, 3: None, 4: 0.0}
    assert {pk: json.loads(v) for pk, v in kept.items()} == components
    assert "item_created_ood_idx" in indexes and "item_created_idx" not in indexes
