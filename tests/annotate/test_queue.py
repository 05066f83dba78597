"""The queue: claim order, resume, expiry, rejected items and concurrent claims."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from alweb.exceptions import Conflict
from alweb.roles import Role
from annotate.models import Item, ItemStatus, Task, TaskStatus
from annotate.services import labeling
from annotate.services.queue import (
    leases_expire,
    queue_claim_next,
    task_release,
)
from tests.factories import UserFactory, add_member, make_items, make_project

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}


@pytest.fixture
def setup(db):
    project = make_project(UserFactory(username="own"))
    ann = add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    ann2 = add_member(project, Role.ANNOTATOR, UserFactory(username="ann2"))
    rev = add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    return project, ann, ann2, rev


def _prioritise(items, priorities):
    for item, p in zip(items, priorities, strict=True):
        Item.objects.filter(pk=item.pk).update(priority=p)


def test_claims_follow_priority_and_never_repeat(setup):
    project, ann, ann2, _ = setup
    items = make_items(project, 3)
    _prioritise(items, [0.1, 0.9, 0.5])
    first = queue_claim_next(project=project, user=ann, kind="label")
    second = queue_claim_next(project=project, user=ann2, kind="label")
    assert first.item_id == items[1].pk
    assert second.item_id == items[2].pk
    assert Item.objects.get(pk=items[1].pk).status == ItemStatus.LABELING


def test_a_user_resumes_their_active_task_with_a_renewed_lease(setup):
    project, ann, *_ = setup
    make_items(project, 2)
    task = queue_claim_next(project=project, user=ann, kind="label")
    # Far enough from expiry that a slow machine cannot let the lease lapse
    # before the second claim; renewal pushes it well past the old value.
    short = timezone.now() + timedelta(seconds=60)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=short)
    again = queue_claim_next(project=project, user=ann, kind="label")
    assert again.pk == task.pk
    assert again.lease_expires_at > short + timedelta(seconds=120)


def _write_transactions(ctx) -> int:
    # Inside the test's transaction each atomic block is a savepoint.
    return sum(q["sql"].startswith("SAVEPOINT") for q in ctx.captured_queries)


def test_a_claim_opens_one_write_transaction_and_a_resume_one(setup):
    """The lease expiry and the resume check are reads unless there is
    something to write: on SQLite every write transaction waits for the one
    write lock, and claim-next took two (bench/drill_annotators.py --trace)."""
    from django.test.utils import CaptureQueriesContext

    project, ann, *_ = setup
    make_items(project, 2)
    with CaptureQueriesContext(connection) as ctx:
        task = queue_claim_next(project=project, user=ann, kind="label")
    assert task is not None and _write_transactions(ctx) == 1
    with CaptureQueriesContext(connection) as ctx:
        again = queue_claim_next(project=project, user=ann, kind="label")
    assert again.pk == task.pk and _write_transactions(ctx) == 1


def test_a_task_expired_before_its_resume_is_not_renewed(setup, monkeypatch):
    """The resume renews only a task still active: one expired (or released)
    between the read and the renewal stays so, and the user gets a new claim."""
    from annotate.services import queue

    project, ann, *_ = setup
    make_items(project, 2)
    task = queue_claim_next(project=project, user=ann, kind="label")
    read = queue._held_or_stale

    def read_then_expire(**kwargs):
        found, stale = read(**kwargs)
        if found is not None:
            task_release(task=found, actor=None, reason="expired")
        return found, stale

    monkeypatch.setattr(queue, "_held_or_stale", read_then_expire)
    again = queue_claim_next(project=project, user=ann, kind="label")
    assert again is not None and again.pk != task.pk
    assert Task.objects.get(pk=task.pk).status == TaskStatus.EXPIRED


@pytest.mark.parametrize("own_stale", [False, True])
def test_a_claim_expires_every_stale_lease_and_resumes_only_a_live_one(
    setup, own_stale
):
    """Three other stale leases (more than the first read returns) are all
    expired; the user's own task is resumed if its lease is live, expired and
    replaced by a new claim if not."""
    project, ann, *_ = setup
    make_items(project, 6)
    others = [
        queue_claim_next(
            project=project,
            user=add_member(project, Role.ANNOTATOR, UserFactory()),
            kind="label",
        )
        for _ in range(3)
    ]
    mine = queue_claim_next(project=project, user=ann, kind="label")
    past = timezone.now() - timedelta(seconds=1)
    Task.objects.filter(pk__in=[t.pk for t in others]).update(lease_expires_at=past)
    if own_stale:
        Task.objects.filter(pk=mine.pk).update(lease_expires_at=past)
    again = queue_claim_next(project=project, user=ann, kind="label")
    statuses = set(
        Task.objects.filter(pk__in=[t.pk for t in others]).values_list(
            "status", flat=True
        )
    )
    assert statuses == {TaskStatus.EXPIRED}
    if own_stale:
        assert again.pk != mine.pk
        assert Task.objects.get(pk=mine.pk).status == TaskStatus.EXPIRED
    else:
        assert again.pk == mine.pk


def test_expired_lease_returns_the_item_and_the_old_holder_gets_409(setup):
    project, ann, ann2, _ = setup
    (item,) = make_items(project, 1)
    task = queue_claim_next(project=project, user=ann, kind="label")
    Task.objects.filter(pk=task.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    other = queue_claim_next(project=project, user=ann2, kind="label")
    assert other is not None and other.item_id == item.pk
    assert Task.objects.get(pk=task.pk).status == TaskStatus.EXPIRED
    with pytest.raises(Conflict):
        labeling.task_draft_save(task=task, shapes=[BOX])
    assert leases_expire(project=project) == 0


def test_release_puts_the_item_back_and_skip_excludes_it(setup):
    project, ann, *_ = setup
    items = make_items(project, 2)
    _prioritise(items, [0.9, 0.1])
    task = queue_claim_next(project=project, user=ann, kind="label")
    assert task_release(task=task, actor=ann)
    assert Item.objects.get(pk=items[0].pk).status == ItemStatus.UNLABELED
    nxt = queue_claim_next(
        project=project, user=ann, kind="label", exclude_item_ids=[items[0].pk]
    )
    assert nxt.item_id == items[1].pk
    assert not task_release(task=task, actor=ann)


def test_rejected_item_goes_back_to_its_annotator_first_with_the_comment(setup):
    project, ann, ann2, rev = setup
    items = make_items(project, 3)
    _prioritise(items, [0.9, 0.5, 0.1])
    task = queue_claim_next(project=project, user=ann, kind="label")
    assert task.item_id == items[0].pk
    labeling.task_submit(task=task, shapes=[BOX])
    review = queue_claim_next(project=project, user=rev, kind="review")
    labeling.review_reject(task=review, comment="box too loose")
    # Still the top priority, but others do not get it during the grace period.
    theirs = queue_claim_next(project=project, user=ann2, kind="label")
    assert theirs.item_id == items[1].pk
    back = queue_claim_next(project=project, user=ann, kind="label")
    assert back.item_id == task.item_id
    assert back.item.review_comment == "box too loose"


def test_review_queue_serves_submitted_items_once(setup):
    project, ann, _, rev = setup
    make_items(project, 1)
    task = queue_claim_next(project=project, user=ann, kind="label")
    assert queue_claim_next(project=project, user=rev, kind="review") is None
    labeling.task_submit(task=task, shapes=[BOX])
    review = queue_claim_next(project=project, user=rev, kind="review")
    assert review.item_id == task.item_id
    rev2 = add_member(project, Role.REVIEWER, UserFactory(username="rev2"))
    assert queue_claim_next(project=project, user=rev2, kind="review") is None


@pytest.mark.django_db(transaction=True)
def test_eight_threads_claiming_at_once_never_share_an_item():
    project = make_project(UserFactory(username="own"))
    users = [
        add_member(project, Role.ANNOTATOR, UserFactory(username=f"a{i}"))
        for i in range(8)
    ]
    make_items(project, 6)  # fewer items than claimers: some must get None
    barrier = threading.Barrier(len(users))
    results, errors = {}, []

    def claim(user):
        try:
            barrier.wait()
            task = queue_claim_next(project=project, user=user, kind="label")
            results[user.pk] = task.item_id if task else None
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    claimed = [i for i in results.values() if i is not None]
    assert len(results) == 8
    assert len(claimed) == len(set(claimed)) == 6
    active = Task.objects.filter(status=TaskStatus.ACTIVE)
    assert active.count() == 6
    assert Item.objects.filter(status=ItemStatus.LABELING).count() == 6
