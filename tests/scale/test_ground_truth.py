"""Approving an item reads the ground truth already in each split as counts of
items per label, in grouped queries whose size does not grow with the ground
truth (before: one row per shape, and every split item's id in the SQL, which
stops at the engines' parameter limits: 32,766 on SQLite, 65,535 on
PostgreSQL)."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate import selectors
from annotate.models import Item, ItemStatus
from annotate.selectors import split_label_counts
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from ml.splits import assign_splits
from models_mgmt.services.pipeline import pipeline_update
from tests.factories import UserFactory, make_items, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def box(label="circle", x=1):
    return {"kind": "box", "label": label, "bbox": [x, 1, 5, 5]}


@pytest.fixture
def project():
    owner = UserFactory(username="gt-owner")
    project = make_project(owner, name="GT")
    pipeline_update(
        project=project,
        actor=owner,
        data={"split": {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0}},
    )
    project.owner = owner
    return project


def put_in_split(project, split: str, shapes_per_item: list[list[dict]], start=0):
    items = make_items(project, len(shapes_per_item), start_seed=start)
    for item, shapes in zip(items, shapes_per_item, strict=True):
        if shapes:
            annotations_replace(
                item=item,
                shapes=shapes_validate(item=item, shapes=shapes),
                author=project.owner,
            )
    Item.objects.filter(pk__in=[i.pk for i in items]).update(
        status=ItemStatus.DONE, split=split
    )
    return items


def test_split_counts_are_items_per_label_not_shapes(project):
    put_in_split(project, "train", [[box(), box(x=9), box("triangle")], [box()]])
    put_in_split(project, "val", [[box(x=i) for i in range(1, 11)]], start=10)
    put_in_split(project, "test", [[]], start=20)
    assert split_label_counts(project=project) == {
        "train": {"circle": 2, "triangle": 1},
        "val": {"circle": 1},
        "test": {"": 1},
    }


def test_a_new_item_goes_to_the_split_that_lags_in_items(project):
    # Items with a circle: train 8, val 1 (of ten circles), test 0. A new circle
    # item belongs in test; counted by shapes (val 10) it went to train.
    put_in_split(project, "train", [[box()]] * 8)
    put_in_split(project, "val", [[box(x=i) for i in range(1, 11)]], start=10)
    (new,) = put_in_split(project, "val", [[box()]], start=20)
    Item.objects.filter(pk=new.pk).update(status=ItemStatus.REVIEW, split=None)
    assert items_make_ground_truth(project=project, item_ids=[new.pk]) == {
        new.pk: "test"
    }


def _approval_sql(project, n_existing: int, start: int) -> list[str]:
    put_in_split(project, "train", [[box()]] * n_existing, start=start)
    (new,) = make_items(project, 1, start_seed=start + 5000)
    with CaptureQueriesContext(connection) as captured:
        items_make_ground_truth(project=project, item_ids=[new.pk])
    return [q["sql"] for q in captured.captured_queries]


def test_an_approval_sends_the_same_queries_whatever_the_ground_truth(project):
    few = _approval_sql(project, 5, 0)
    many = _approval_sql(project, 300, 100)
    assert len(few) == len(many)
    # No statement carries the ids of the ground truth: same sizes, give or take
    # the digits of the new item's id and of the timestamps.
    assert max(map(len, many)) - max(map(len, few)) < 40


def _only(counts, labels):
    kept = {s: {k: n for k, n in c.items() if k in labels} for s, c in counts.items()}
    return {s: c for s, c in kept.items() if c}


def test_counts_of_some_labels_are_the_full_counts_of_those(project):
    put_in_split(project, "train", [[box(), box("triangle")], [box()], []])
    put_in_split(project, "val", [[box("rectangle")], [box(), box(x=3)]], start=10)
    put_in_split(project, "test", [[box("triangle")], []], start=20)
    full = split_label_counts(project=project)
    many = ["circle", "triangle", "rectangle", "", "hexagon", "star"]
    assert len(many) > selectors.SPLIT_LABELS_PROBED  # the grouped query's path
    for labels in (
        ["circle"],
        ["circle", "triangle"],
        [""],
        ["rectangle", "hexagon"],
        ["hexagon"],
        many,
    ):
        assert split_label_counts(project=project, labels=labels) == _only(
            full, labels
        ), labels


def test_an_approval_draws_the_split_the_full_counts_would(project):
    """Each approval counts only the labels of the item it approves; the split
    it draws is the one the counts of every label give (assign_splits reads
    no other label)."""
    rng = random.Random(7)
    names = ["circle", "triangle", "rectangle"]
    ratios = {"train": 0.8, "val": 0.1, "test": 0.1}
    items = make_items(project, 40, start_seed=300)
    for item in items:
        labels = rng.sample(names, rng.choice([0, 1, 1, 2, 3]))
        if labels:
            annotations_replace(
                item=item,
                shapes=shapes_validate(item=item, shapes=[box(n) for n in labels]),
                author=project.owner,
            )
        key = frozenset(labels)
        expected = assign_splits(
            [(item.pk, key)], ratios, 0, split_label_counts(project=project)
        )
        assert items_make_ground_truth(project=project, item_ids=[item.pk]) == (
            expected
        )
    assert {s for s in split_label_counts(project=project)} == {"train", "val", "test"}


def test_counts_given_for_other_labels_are_read_again(project):
    # A caller's counts cover labels the item no longer carries (its shapes
    # changed since they were read): the counts of its own labels are read.
    put_in_split(project, "train", [[box()]] * 8)
    (new,) = put_in_split(project, "val", [[box()]], start=20)
    Item.objects.filter(pk=new.pk).update(status=ItemStatus.REVIEW, split=None)
    drawn = items_make_ground_truth(
        project=project,
        item_ids=[new.pk],
        split_counts={"val": {"rectangle": 5}},
        split_labels={"rectangle"},
    )
    # With the counts given (no circle anywhere) it would go to train; with the
    # 8 circles in train, it goes to val.
    assert (
        drawn
        == {new.pk: "val"}
        == assign_splits(
            [(new.pk, frozenset({"circle"}))],
            {"train": 0.8, "val": 0.1, "test": 0.1},
            0,
            {"train": {"circle": 8}},
        )
    )
