"""The read-only peek at the next task (for preloading): it names the item the next
claim gets, claims nothing, and serves that item's image only while it waits in
the caller's queue. The claim's order is the same selector (behaviour unchanged)."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alweb.roles import Role
from annotate.models import Annotation, Event, Item, ItemStatus, Task, TaskStatus
from annotate.services import labeling
from annotate.services.queue import queue_claim_next, task_release
from tests.factories import UserFactory, add_member, make_items

pytestmark = pytest.mark.django_db

BOX = {"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _peek(user, project, **params):
    return _client(user).get(f"/api/v1/projects/{project.pk}/tasks/peek/", params)


def _state():
    return (
        sorted(Item.objects.values_list("pk", "status")),
        sorted(Task.objects.values_list("pk", "status", "lease_expires_at")),
        Event.objects.count(),
    )


def test_peek_names_the_next_item_with_its_pre_annotations_and_claims_nothing(
    project_roles,
):
    project, users, _ = project_roles
    ann = users[Role.ANNOTATOR]
    first, second, third = make_items(project, 3)
    Item.objects.filter(pk=second.pk).update(priority=5)
    Item.objects.filter(pk=first.pk).update(priority=3)
    Annotation.objects.create(
        item=first,
        kind="box",
        label="circle",
        geometry={"bbox": [1, 2, 30, 20]},
        source="model",
        model_version_id=7,
        confidence=0.8,
    )
    held = queue_claim_next(project=project, user=ann, kind="label")
    assert held.item_id == second.pk
    before = _state()
    res = _peek(ann, project, kind="label")
    assert res.status_code == 200
    body = res.json()
    assert body["kind"] == "label" and body["item"]["id"] == first.pk
    assert body["item"]["name"] == first.original_name == "img_0.png"
    [shape] = body["annotations"]
    assert shape["source"] == "model:7" and shape["confidence"] == 0.8
    assert shape["bbox"] == [1, 2, 30, 20]
    assert _state() == before  # read-only: no task, no lease renewed, no event

    # Its image URL serves the bytes while the item waits in the queue.
    image = _client(ann).get(body["item"]["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    with first.file.open("rb") as fh:
        assert b"".join(image.streaming_content) == fh.read()
    assert _state() == before

    labeling.task_submit(task=held, shapes=[BOX])
    claimed = queue_claim_next(project=project, user=ann, kind="label")
    assert claimed.item_id == first.pk


def test_peek_follows_the_claim_order_step_by_step(project_roles):
    """Seeded random queues (priorities, skips, rejections of one's own and of
    others' work): before each claim the peek names the item the claim gets."""
    project, users, _ = project_roles
    ann = users[Role.ANNOTATOR]
    other = add_member(project, Role.ANNOTATOR, UserFactory(username="ann-b"))
    rng = random.Random(12)
    items = make_items(project, 14)
    for item in items:
        Item.objects.filter(pk=item.pk).update(priority=rng.choice([0, 1, 2, 2.5]))
    now = timezone.now()
    for item, who in [(items[3], ann), (items[5], other), (items[8], ann)]:
        Item.objects.filter(pk=item.pk).update(
            last_annotator=who, rejected_at=now - timedelta(minutes=rng.randint(1, 9))
        )
    skipped: list[int] = []
    held = queue_claim_next(project=project, user=ann, kind="label")
    steps = 0
    while held is not None:
        res = _peek(ann, project, kind="label", exclude=skipped)
        expected = res.json()["item"]["id"] if res.status_code == 200 else None
        if rng.random() < 0.3:
            skipped.append(held.item_id)
            task_release(task=held, actor=ann)
        else:
            labeling.task_submit(task=held, shapes=[BOX])
        held = queue_claim_next(
            project=project, user=ann, kind="label", exclude_item_ids=skipped
        )
        assert (held.item_id if held else None) == expected, steps
        steps += 1
    assert steps >= 8
    assert _peek(ann, project, kind="label", exclude=skipped).status_code == 204


def test_review_peek_skips_items_someone_holds(project_roles):
    project, users, _ = project_roles
    rev = users[Role.REVIEWER]
    a, b, c = make_items(project, 3)
    Item.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(status=ItemStatus.REVIEW)
    Item.objects.filter(pk=a.pk).update(priority=3)
    Item.objects.filter(pk=b.pk).update(priority=2)
    queue_claim_next(project=project, user=users[Role.OWNER], kind="review")  # a
    held = queue_claim_next(project=project, user=rev, kind="review")
    assert held.item_id == b.pk
    res = _peek(rev, project, kind="review")
    assert res.status_code == 200 and res.json()["item"]["id"] == c.pk
    url = res.json()["item"]["image_url"]
    assert _client(rev).get(url).status_code == 200
    # The item the owner holds is not in the reviewer's queue: no image.
    held_url = url.replace(f"/peek/{c.pk}/", f"/peek/{a.pk}/")
    assert _client(rev).get(held_url).status_code == 404


def test_peek_image_only_for_items_waiting_in_the_callers_queue(
    project_roles, other_project
):
    project, users, outsider = project_roles
    ann = users[Role.ANNOTATOR]
    waiting, held_by_other, done = make_items(project, 3)
    (elsewhere,) = make_items(other_project, 1, start_seed=50)
    queue_claim_next(project=project, user=users[Role.OWNER], kind="label")
    Item.objects.filter(pk=waiting.pk).update(priority=-1)  # claimed: held_by_other
    task = Task.objects.get()
    assert task.item_id in (waiting.pk, held_by_other.pk)
    held_id = task.item_id
    free_id = waiting.pk if held_id != waiting.pk else held_by_other.pk
    Item.objects.filter(pk=done.pk).update(status=ItemStatus.DONE, split="train")

    def image(user, item_id, kind="label", project_id=project.pk):
        url = f"/api/v1/projects/{project_id}/tasks/peek/{item_id}/image"
        return _client(user).get(url, {"kind": kind}).status_code

    assert image(ann, free_id) == 200
    assert image(ann, held_id) == 404  # someone holds it
    assert image(ann, done.pk) == 404  # not waiting
    assert image(ann, elsewhere.pk) == 404  # another project's item
    assert image(ann, free_id, project_id=other_project.pk) == 404  # not a member
    assert image(outsider, free_id) == 404
    assert image(ann, free_id, kind="review") == 403  # an annotator does not review
    assert image(users[Role.REVIEWER], free_id) == 403
    assert image(ann, 2**63) == 404
    # Recently rejected from someone else's work: offered to its annotator only.
    Item.objects.filter(pk=free_id).update(
        last_annotator=users[Role.DEVELOPER], rejected_at=timezone.now()
    )
    assert image(ann, free_id) == 404
    assert image(users[Role.DEVELOPER], free_id) == 200


def test_peek_refuses_bad_queries_with_the_field(project_roles):
    project, users, _ = project_roles
    make_items(project, 1)
    ann = users[Role.ANNOTATOR]
    for params, field in [
        ({"kind": "nope"}, "kind"),
        ({"exclude": "abc"}, "exclude"),
        ({"exclude": str(2**63)}, "exclude"),
        ({"exclude": "0"}, "exclude"),
        ({"exclude": [str(i) for i in range(1, 203)]}, "exclude"),
    ]:
        res = _peek(ann, project, **params)
        assert res.status_code == 400 and field in res.json(), (params, res.content)
    assert _peek(ann, project).status_code == 200  # kind defaults to label
    assert Task.objects.filter(status=TaskStatus.ACTIVE).count() == 0
