"""Versioned drafts and idempotent submits under PostgreSQL's concurrency.

SQLite's IMMEDIATE transactions run two saves of one task one after the other;
PostgreSQL (READ COMMITTED) runs them at once, so both pass every read and meet
only at the conditional UPDATE. Each test holds the first call's transaction
open while the second waits for the row lock, then commits the first
(run_while_held): the same interleaving every run.
"""

import pytest
from django.db import connection

from alweb.exceptions import Conflict
from alweb.roles import Role
from annotate.models import Annotation, Event, Item, Task, TaskKind
from annotate.services import labeling
from annotate.services.queue import queue_claim_next
from tests.conftest import engine_missing
from tests.factories import UserFactory, add_member, make_items, make_project
from tests.scale.test_postgres_locking import run_while_held

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}
OTHER = {"kind": "box", "label": "circle", "bbox": [30, 30, 10, 10]}


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        engine_missing("about PostgreSQL's concurrency (SQLite serializes writes)")


@pytest.fixture
def task_id():
    owner = UserFactory(username="race-owner")
    project = make_project(owner, name="Races")
    annotator = add_member(project, Role.ANNOTATOR, UserFactory(username="race-ann"))
    make_items(project, 1)
    task = queue_claim_next(project=project, user=annotator, kind=TaskKind.LABEL)
    return task.pk


def _boxes(task_id):
    item_id = Task.objects.get(pk=task_id).item_id
    rows = Annotation.objects.filter(item_id=item_id).order_by("pk")
    return [a.geometry["bbox"] for a in rows]


def test_two_saves_from_one_version_at_once_one_applies_one_gets_409(task_id):
    def save(shape):
        return lambda: labeling.task_draft_save(
            task=Task.objects.get(pk=task_id), shapes=[shape], client_version=0
        )

    first, second = run_while_held(save(BOX), save(OTHER))
    assert isinstance(first, Task), first
    assert isinstance(second, Conflict), second
    assert second.extra["version"] == 1
    task = Task.objects.get(pk=task_id)
    assert task.draft_version == 1 and task.draft[0]["bbox"] == BOX["bbox"]


def test_a_submit_and_its_retry_at_once_apply_once_and_both_succeed(task_id):
    def submit(shape):
        return lambda: labeling.task_submit(
            task=Task.objects.get(pk=task_id), shapes=[shape], client_id="retry-1"
        )

    first, second = run_while_held(submit(BOX), submit(OTHER))
    assert isinstance(first, Item), first
    assert isinstance(second, Item), second
    assert second.status == "review"
    assert _boxes(task_id) == [BOX["bbox"]]
    item_id = Task.objects.get(pk=task_id).item_id
    assert Event.objects.filter(verb="label_submitted", item_id=item_id).count() == 1


def test_a_submit_and_another_client_id_at_once_the_second_gets_409(task_id):
    def submit(shape, client_id):
        return lambda: labeling.task_submit(
            task=Task.objects.get(pk=task_id), shapes=[shape], client_id=client_id
        )

    first, second = run_while_held(submit(BOX, "one"), submit(OTHER, "two"))
    assert isinstance(first, Item), first
    assert isinstance(second, Conflict), second
    assert second.extra["task_status"] == "submitted"
    assert _boxes(task_id) == [BOX["bbox"]]
