"""annotate's writes for the model loop: model pre-annotations with scores (the
one path of scoring and of the COCO predictions import), embeddings, and queue
priorities with their reason."""

import pytest

from annotate.models import Annotation, AnnotationSource, Item, ItemStatus
from annotate.services.annotations import annotations_replace
from annotate.services.predictions import (
    ItemPredictions,
    ItemScore,
    Priority,
    item_embeddings_store,
    item_predictions_replace,
    item_priorities_set,
)
from tests.factories import UserFactory, make_items, make_project

BOX = {"kind": "box", "label": "circle", "bbox": [1.0, 1.0, 10.0, 10.0], "area": 100.0}


@pytest.fixture
def world(db):
    owner = UserFactory(username="pred-owner")
    project = make_project(owner, name="Predictions", labels=["circle", "square"])
    return project, owner, make_items(project, 3)


def _model_shapes(item):
    return list(
        Annotation.objects.filter(item=item, source=AnnotationSource.MODEL).values_list(
            "label", "model_version_id", "confidence"
        )
    )


def test_predictions_replace_model_shapes_keep_human_ones_and_store_scores(world):
    project, owner, (a, b, _c) = world
    annotations_replace(item=b, shapes=[{**BOX, "label": "square"}], author=owner)
    first = [ItemPredictions(a.pk, [{**BOX, "confidence": 0.9}])]
    item_predictions_replace(
        project=project, model_version_id=4, predictions=first, only_unlabeled=True
    )
    again = [
        ItemPredictions(
            a.pk,
            [{**BOX, "confidence": 0.5, "class_scores": [0.5, 0.5]}],
            ItemScore(0.7, (0.1, 0.2)),
        ),
        ItemPredictions(b.pk, [BOX]),
    ]
    written = item_predictions_replace(
        project=project, model_version_id=5, predictions=again, only_unlabeled=False
    )
    assert written == {a.pk, b.pk}
    assert _model_shapes(a) == [("circle", 5, 0.5)]
    assert Annotation.objects.filter(item=b, source=AnnotationSource.HUMAN).count() == 1
    a.refresh_from_db()
    assert (a.uncertainty, a.embedding, a.scored_by) == (0.7, [0.1, 0.2], 5)
    assert a.scored_at is not None


def test_scoring_leaves_items_claimed_meanwhile(world):
    project, _owner, (a, b, _c) = world
    Item.objects.filter(pk=b.pk).update(status=ItemStatus.LABELING)
    written = item_predictions_replace(
        project=project,
        model_version_id=3,
        predictions=[ItemPredictions(a.pk, [BOX]), ItemPredictions(b.pk, [BOX])],
        only_unlabeled=True,
    )
    assert written == {a.pk} and _model_shapes(b) == []


def test_items_of_another_project_are_ignored(world):
    project, owner, (a, _b, _c) = world
    other = make_project(owner, name="Other")
    (foreign,) = make_items(other, 1, start_seed=50)
    written = item_predictions_replace(
        project=project,
        model_version_id=3,
        predictions=[ItemPredictions(foreign.pk, [BOX])],
        only_unlabeled=False,
    )
    assert written == set() and _model_shapes(foreign) == []
    assert item_priorities_set(project=project, priorities={foreign.pk: 9.0}) == 0
    assert item_embeddings_store(project=project, embeddings={foreign.pk: [1.0]}) == 0


def test_priorities_keep_their_reason(world):
    project, _owner, (a, b, _c) = world
    reason = {"strategy": "entropy", "components": {"uncertainty": 0.8}}
    n = item_priorities_set(
        project=project, priorities={a.pk: Priority(0.8, reason), b.pk: 0.1}
    )
    assert n == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.priority, a.priority_reason) == (0.8, reason)
    assert (b.priority, b.priority_reason) == (0.1, {})


def test_priorities_are_one_statement_without_case_expressions(world):
    """bulk_update's CASE WHEN made the priorities of 10,000 items cost 4-11 s
    (bench/scoring.py); a manager's pin is still left alone, by the UPDATE's
    own condition: no read of the items inside the write transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project, _owner, (a, b, c) = world
    Item.objects.filter(pk=c.pk).update(pin="pinned", priority=5.0)
    reason = {"strategy": "hybrid", "components": {"rare": 0.25}, "control": False}
    with CaptureQueriesContext(connection) as ctx:
        n = item_priorities_set(
            project=project,
            priorities={a.pk: Priority(0.75, reason), b.pk: 0.5, c.pk: 0.1},
        )
    updates = [q["sql"] for q in ctx.captured_queries if "UPDATE" in q["sql"]]
    assert n == 2
    assert len(updates) == 1 and updates[0].startswith("3 times: UPDATE")
    assert "CASE" not in updates[0] and '"pin" = %s' in updates[0]
    assert not [q for q in ctx.captured_queries if "SELECT" in q["sql"]]
    got = {
        it.pk: (it.priority, it.priority_reason)
        for it in Item.objects.filter(pk__in=[a.pk, b.pk, c.pk])
    }
    assert got == {a.pk: (0.75, reason), b.pk: (0.5, {}), c.pk: (5.0, {})}


def test_priorities_are_written_a_chunk_per_transaction(world, monkeypatch):
    """One transaction for every priority held SQLite's write lock for 4.5 s at
    83,000 items and every claim waited (bench/drill_annotators.py): each chunk
    commits on its own (a savepoint each here, inside the test's transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotate.services import predictions

    project, _owner, (a, b, c) = world
    monkeypatch.setattr(predictions, "PRIORITY_CHUNK", 2)
    Item.objects.filter(pk=b.pk).update(pin="pinned", priority=5.0)
    with CaptureQueriesContext(connection) as ctx:
        n = item_priorities_set(
            project=project, priorities={c.pk: 0.3, a.pk: 0.9, b.pk: 0.1}
        )
    sql = [q["sql"] for q in ctx.captured_queries]
    assert n == 2
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 2
    assert sum(s.startswith("RELEASE SAVEPOINT") for s in sql) == 2
    got = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert (got[a.pk], got[b.pk], got[c.pk]) == (0.9, 5.0, 0.3)


@pytest.mark.django_db(transaction=True)
def test_a_rewrite_pauses_between_chunks_with_no_transaction_open(monkeypatch):
    """Back to back, the chunks kept SQLite's write lock nearly all the time
    and a claim waited behind chunk after chunk (claim-next p95 204 ms against
    53 ms without the rewrite, bench/drill_annotators.py): between two chunks
    the rewrite now waits with no transaction open, and not after the last."""
    from django.db import connection

    from annotate.services import predictions

    owner = UserFactory(username="pause-owner")
    project = make_project(owner, name="Pauses", labels=["circle"])
    items = make_items(project, 5)
    monkeypatch.setattr(predictions, "PRIORITY_CHUNK", 2)
    pauses = []
    monkeypatch.setattr(
        predictions, "_pause", lambda: pauses.append(connection.in_atomic_block)
    )
    n = item_priorities_set(
        project=project, priorities={item.pk: 0.5 for item in items}
    )
    assert n == 5
    assert pauses == [False, False]  # 3 chunks: 2 pauses, no transaction open


def test_embeddings_are_stored(world):
    project, _owner, (a, _b, _c) = world
    assert item_embeddings_store(project=project, embeddings={a.pk: (0.5, 0.25)}) == 1
    a.refresh_from_db()
    assert a.embedding == [0.5, 0.25]


def test_scores_are_written_row_by_row_without_case_expressions(world):
    """bulk_update's CASE WHEN per field and row cost scoring about 5 % of its
    time (bench/scoring.py): one parametrised single-row UPDATE, run for every
    scored item (executemany)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project, _owner, items = world
    predictions = [
        ItemPredictions(it.pk, [BOX], ItemScore(0.1 * n, (0.5, n), {"rare": 0.0}))
        for n, it in enumerate(items)
    ]
    with CaptureQueriesContext(connection) as ctx:
        item_predictions_replace(
            project=project, model_version_id=7, predictions=predictions,
            only_unlabeled=True,
        )  # fmt: skip
    updates = [q["sql"] for q in ctx.captured_queries if "UPDATE" in q["sql"]]
    assert updates == [updates[0]]
    assert updates[0].startswith(f"{len(items)} times: UPDATE")
    assert "CASE" not in updates[0]
    for n, item in enumerate(items):
        item.refresh_from_db()
        assert (item.uncertainty, item.embedding) == (0.1 * n, [0.5, n])
        assert (item.scored_by, item.score_components) == (7, {"rare": 0.0})


def test_the_ood_column_follows_the_stored_score_on_every_write(world):
    """Item.ood is the database's copy of score_components["ood"] (a generated
    column: the drift panel and the OOD filter count it from an index): set by
    scoring's write, by a plain UPDATE and a save, NULL where the score has no
    OOD part, and read back as the number stored."""
    project, owner, (a, b, c) = world

    def ood(item):
        return Item.objects.values_list("ood", flat=True).get(pk=item.pk)

    assert ood(a) is None  # a new item: no score
    item_predictions_replace(
        project=project,
        model_version_id=2,
        predictions=[
            ItemPredictions(a.pk, [BOX], ItemScore(0.4, None, {"ood": 0.97})),
            ItemPredictions(b.pk, [BOX], ItemScore(0.4, None, {"rare": 0.3})),
        ],
        only_unlabeled=True,
    )
    assert (ood(a), ood(b)) == (0.97, None)
    Item.objects.filter(pk=b.pk).update(score_components={"ood": 0.25, "rare": 0.1})
    assert ood(b) == 0.25
    c.score_components = {"ood": 1}
    c.save()
    assert ood(c) == 1.0
    Item.objects.filter(pk=a.pk).update(score_components={})
    assert ood(a) is None
    over = Item.objects.filter(project=project, ood__gt=0.9)
    assert list(over.values_list("pk", flat=True)) == [c.pk]
