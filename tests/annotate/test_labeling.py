"""Autosave, submit, approve and reject: the label and review steps."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alweb.exceptions import Conflict
from alweb.roles import Role
from annotate.models import Annotation, Item, ItemStatus, Task, TaskStatus
from annotate.services import labeling
from annotate.services.curation import item_reopen
from annotate.services.queue import queue_claim_next
from tests.factories import UserFactory, add_member, make_items, make_project

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}
POLY = {
    "kind": "polygon",
    "label": "triangle",
    "points": [[10, 10], [40, 12], [20, 40]],
}


@pytest.fixture
def flow(db):
    project = make_project(UserFactory(username="own"))
    ann = add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    rev = add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    (item,) = make_items(project, 1)
    task = queue_claim_next(project=project, user=ann, kind="label")
    return project, ann, rev, item, task


def test_a_reopened_item_gets_its_split_back_without_counting_splits(flow):
    """Approved again after a reopen, an item gets back the split it held: the
    approval reads neither the split counts nor the pipeline's split settings
    (the stratified draw they are for does not happen)."""
    project, ann, rev, item, task = flow
    labeling.task_submit(task=task, shapes=[BOX])
    labeling.review_approve(
        task=queue_claim_next(project=project, user=rev, kind="review")
    )
    split = Item.objects.get(pk=item.pk).split
    item_reopen(item=Item.objects.get(pk=item.pk), actor=rev)
    again = queue_claim_next(project=project, user=ann, kind="label")
    labeling.task_submit(task=again, shapes=[POLY])
    review = queue_claim_next(project=project, user=rev, kind="review")
    with CaptureQueriesContext(connection) as queries:
        approved = labeling.review_approve(task=review)
    assert (approved.status, approved.split, approved.held_split) == (
        ItemStatus.DONE,
        split,
        None,
    )
    sql = [q["sql"] for q in queries]
    assert not [q for q in sql if '"split" AS "split"' in q], sql  # no split count
    assert not [q for q in sql if 'FROM "annotate_pipeline"' in q], sql


def test_draft_save_bumps_version_and_stale_version_is_409(flow):
    *_, task = flow
    saved = labeling.task_draft_save(task=task, shapes=[BOX], client_version=0)
    assert saved.draft_version == 1 and saved.draft[0]["label"] == "circle"
    labeling.task_draft_save(task=task, shapes=[BOX, POLY], client_version=1)
    with pytest.raises(Conflict):
        labeling.task_draft_save(task=task, shapes=[], client_version=1)
    assert len(Task.objects.get(pk=task.pk).draft) == 2


def test_bad_shapes_raise_400_naming_the_index_and_change_nothing(flow):
    *_, item, task = flow
    labeling.task_draft_save(task=task, shapes=[BOX])
    bad = {"kind": "polygon", "label": "circle", "points": [[0, 0], [5, 5], [9, 9]]}
    with pytest.raises(ValidationError) as exc:
        labeling.task_draft_save(task=task, shapes=[BOX, bad])
    assert "annotations[1]" in str(exc.value.message_dict["annotations"])
    with pytest.raises(ValidationError):
        labeling.task_submit(task=task, shapes=[bad])
    task.refresh_from_db()
    assert task.status == TaskStatus.ACTIVE and len(task.draft) == 1
    assert not Annotation.objects.filter(item=item).exists()
    assert Item.objects.get(pk=item.pk).status == ItemStatus.LABELING


def test_approve_assigns_a_split_that_never_changes(flow):
    project, ann, rev, item, task = flow
    labeling.task_submit(task=task, shapes=[BOX, POLY])
    review = queue_claim_next(project=project, user=rev, kind="review")
    approved = labeling.review_approve(task=review)
    assert approved.status == ItemStatus.DONE and approved.split in {
        "train",
        "val",
        "test",
    }
    split = approved.split
    project.pipeline.split_seed = 12345
    project.pipeline.save()
    labeling.items_make_ground_truth(project=project, item_ids=[item.pk])
    assert Item.objects.get(pk=item.pk).split == split


def test_edits_after_submit_or_approval_are_409(flow):
    project, ann, rev, item, task = flow
    labeling.task_submit(task=task, shapes=[BOX])
    with pytest.raises(Conflict):
        labeling.task_draft_save(task=task, shapes=[BOX, POLY])
    with pytest.raises(Conflict):
        labeling.task_submit(task=task, shapes=[POLY])
    review = queue_claim_next(project=project, user=rev, kind="review")
    labeling.review_approve(task=review, shapes=[POLY])
    with pytest.raises(Conflict):
        labeling.review_reject(task=review, comment="too late")
    with pytest.raises(Conflict):
        labeling.review_approve(task=review)
    assert list(Annotation.objects.filter(item=item).values_list("label", flat=True))
    assert Annotation.objects.get(item=item).label == "triangle"


def test_reject_requires_a_comment_and_keeps_annotations(flow):
    project, ann, rev, item, task = flow
    labeling.task_submit(task=task, shapes=[BOX])
    review = queue_claim_next(project=project, user=rev, kind="review")
    with pytest.raises(ValidationError) as exc:
        labeling.review_reject(task=review, comment="   ")
    assert "comment" in exc.value.message_dict
    item_after = labeling.review_reject(task=review, comment="label is wrong")
    assert item_after.status == ItemStatus.UNLABELED
    assert item_after.review_comment == "label is wrong"
    assert Annotation.objects.filter(item=item).count() == 1


def test_unchanged_model_preannotation_keeps_its_source(flow):
    project, ann, rev, item, task = flow
    model_shape = Annotation.objects.create(
        item=item,
        kind="box",
        label="circle",
        geometry={"bbox": [1.0, 1.0, 10.0, 10.0]},
        source="model",
        model_version_id=7,
        confidence=0.8,
    )
    shapes = [{"id": model_shape.pk, **BOX, "bbox": [1, 1, 10, 10]}, POLY]
    labeling.task_submit(task=task, shapes=shapes)
    sources = sorted(
        Annotation.objects.filter(item=item).values_list("source", flat=True)
    )
    assert sources == ["human", "model"]


def _queries_in_transactions(ctx) -> tuple[list[str], list[str]]:
    """The captured statements outside and inside atomic blocks (savepoints
    within the test's transaction)."""
    outside, inside, depth = [], [], 0
    for sql in (q["sql"] for q in ctx.captured_queries):
        if sql.startswith("SAVEPOINT"):
            depth += 1
        elif sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
        else:
            (inside if depth else outside).append(sql)
    return outside, inside


def test_saves_validate_and_approvals_count_splits_before_the_write(flow):
    """On SQLite a write transaction holds the one write lock from its BEGIN
    (every annotator's claim and save waits meanwhile): bad shapes open none,
    and an approval's grouped split count is read before its transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project, _ann, rev, _item, task = flow
    bad = [{"kind": "box", "label": "nope", "bbox": [1, 1, 5, 5]}]
    for save in (labeling.task_draft_save, labeling.task_submit):
        with CaptureQueriesContext(connection) as ctx, pytest.raises(ValidationError):
            save(task=task, shapes=bad)
        assert _queries_in_transactions(ctx)[1] == []
        assert not any(q["sql"].startswith("SAVEPOINT") for q in ctx.captured_queries)
    labeling.task_submit(task=task, shapes=[BOX])
    review = queue_claim_next(project=project, user=rev, kind="review")
    with CaptureQueriesContext(connection) as ctx:
        labeling.review_approve(task=review)
    outside, inside = _queries_in_transactions(ctx)

    def split_count(sql: str) -> bool:  # selectors.split_label_counts
        return "COUNT(" in sql and "GROUP BY" in sql and '"split"' in sql

    assert any(split_count(sql) for sql in outside)
    assert not any(split_count(sql) for sql in inside)
    assert Item.objects.get(pk=review.item_id).split is not None
