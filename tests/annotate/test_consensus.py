"""Consensus: a chosen item is labelled by two different annotators before it
goes to review, their agreement is stored, disagreements are reviewed first, the
reviewer gets both versions, the Work page shows agreement per annotator, and the
setting refuses bad input."""

import threading
import time

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse

from alweb.roles import Role
from annotate.api.outputs import TaskSerializer
from annotate.models import Annotation, Item, ItemStatus, Pipeline, Task
from annotate.selectors_work import work_summary
from annotate.services.curation import item_reopen, items_bulk_apply
from annotate.services.labeling import review_approve, review_reject, task_submit
from annotate.services.queue import queue_claim_next, task_release
from tests.annotate._team import (
    assert_api_refuses_share,
    box,
    make_team,
    settings_page_share,
)
from tests.api.helpers import client_for
from tests.factories import UserFactory, add_member, make_items, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team(
        "c-own",
        "Consensus",
        (
            ("ann", Role.ANNOTATOR),
            ("ann2", Role.ANNOTATOR),
            ("ann3", Role.ANNOTATOR),
            ("rev", Role.REVIEWER),
        ),
    )


def _share(project, share):
    Pipeline.objects.filter(project=project).update(consensus_share=share)


def _label(project, user, shapes, exclude=()):
    task = queue_claim_next(
        project=project, user=user, kind="label", exclude_item_ids=exclude
    )
    assert task is not None
    task_submit(task=task, shapes=shapes)
    return task


def test_with_share_one_an_item_needs_two_different_annotators(team):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    model = Annotation.objects.filter(item=item).count()
    first = _label(project, u["ann"], [box("circle", 5)])
    item.refresh_from_db()
    # Back in the label queue, its annotations untouched for the second one.
    assert item.status == ItemStatus.UNLABELED and item.consensus_first_id == first.pk
    assert Annotation.objects.filter(item=item).count() == model
    assert queue_claim_next(project=project, user=u["ann"], kind="label") is None
    assert queue_claim_next(project=project, user=u["rev"], kind="review") is None
    second = queue_claim_next(project=project, user=u["ann2"], kind="label")
    assert second.item_id == item.pk and second.pk != first.pk
    task_submit(task=second, shapes=[box("circle", 5), box("rectangle", 50)])
    item.refresh_from_db()
    assert item.status == ItemStatus.REVIEW
    assert item.agreement == pytest.approx(2 / 3)  # 1 match of 1 + 2 shapes
    assert (
        list(
            Task.objects.filter(pk__in=[first.pk, second.pk]).values_list(
                "agreement", flat=True
            )
        )
        == [pytest.approx(2 / 3)] * 2
    )
    # The third annotator finds nothing: the round is complete.
    assert queue_claim_next(project=project, user=u["ann3"], kind="label") is None


def test_the_first_annotator_is_never_offered_their_own_consensus_item(team):
    project, u = team
    _share(project, 1.0)
    items = make_items(project, 3)
    first = _label(project, u["ann"], [])
    # A release of the second claim puts it back, still not for "ann".
    other = queue_claim_next(project=project, user=u["ann2"], kind="label")
    task_release(task=other, actor=u["ann2"])
    claimed = set()
    for _ in range(2):
        t = queue_claim_next(project=project, user=u["ann"], kind="label")
        assert t.item_id != first.item_id
        claimed.add(t.item_id)
        task_submit(task=t, shapes=[])
    assert claimed == {i.pk for i in items} - {first.item_id}
    assert queue_claim_next(project=project, user=u["ann"], kind="label") is None


def test_share_zero_sends_items_straight_to_review(team):
    project, u = team
    make_items(project, 2)
    _label(project, u["ann"], [box("circle", 5)])
    assert Item.objects.filter(status=ItemStatus.REVIEW).count() == 1
    assert not Item.objects.filter(agreement__isnull=False).exists()


def test_review_takes_disagreements_first_and_shows_both_versions(team):
    project, u = team
    single, agreed, disagreed = make_items(project, 3)
    Item.objects.filter(pk=single.pk).update(priority=0.9)
    # Single-labelled, highest priority:
    t = queue_claim_next(project=project, user=u["ann"], kind="label")
    assert t.item_id == single.pk
    task_submit(task=t, shapes=[box("circle", 5)])
    _share(project, 1.0)
    # "agreed": both draw the same box; "disagreed": other labels.
    Item.objects.filter(pk=agreed.pk).update(priority=0.5)
    _label(project, u["ann"], [box("circle", 5)])
    _label(project, u["ann2"], [box("circle", 6)])
    _label(project, u["ann"], [box("circle", 5), box("rectangle", 40)])
    _label(project, u["ann2"], [box("triangle", 5)])
    agreed.refresh_from_db()
    disagreed.refresh_from_db()
    assert agreed.agreement == 1.0 and disagreed.agreement == 0.0
    order = []
    while r := queue_claim_next(project=project, user=u["rev"], kind="review"):
        order.append(r.item_id)
        data = TaskSerializer(r).data
        if r.item_id == disagreed.pk:
            assert data["consensus"]["agreement"] == 0.0
            assert [
                (v["annotator"], [s["label"] for s in v["shapes"]])
                for v in data["consensus"]["versions"]
            ] == [("ann", ["circle", "rectangle"]), ("ann2", ["triangle"])]
            # The reviewer takes the first version as ground truth.
            review_approve(task=r, shapes=data["consensus"]["versions"][0]["shapes"])
        else:
            assert (data["consensus"] is None) == (r.item_id == single.pk)
            review_approve(task=r)
    # Disagreement first; full agreement ranks with single-labelled by priority.
    assert order == [disagreed.pk, single.pk, agreed.pk]
    assert sorted(
        Annotation.objects.filter(item=disagreed).values_list("label", flat=True)
    ) == ["circle", "rectangle"]


def test_work_page_shows_agreement_per_annotator(team, client):
    project, u = team
    _share(project, 1.0)
    make_items(project, 2)
    # Item 1: ann [c], ann2 [c] -> 1.0. Item 2: ann2 [c, s], ann3 [t] -> 0.0.
    _label(project, u["ann"], [box("circle", 5)])
    _label(project, u["ann2"], [box("circle", 5)])
    _label(project, u["ann2"], [box("circle", 5), box("rectangle", 40)])
    _label(project, u["ann3"], [box("triangle", 5)])
    rows = {r.username: r for r in work_summary(project=project).annotators}
    assert (rows["ann"].consensus, rows["ann"].agreement) == (1, 1.0)
    assert (rows["ann2"].consensus, rows["ann2"].agreement) == (2, 0.5)
    assert (rows["ann3"].consensus, rows["ann3"].agreement) == (1, 0.0)
    client.force_login(u["own"])
    body = client.get(
        reverse("annotate:project-work", args=[project.pk])
    ).content.decode()
    assert ">50% over 2 items</a>" in body
    assert ">100% over 1 item</a>" in body and ">0% over 1 item</a>" in body
    api = client_for(u["own"]).get(reverse("api-work", args=[project.pk]))
    by_name = {r["username"]: r for r in api.json()["annotators"]}
    assert by_name["ann2"]["agreement"] == 0.5 and by_name["ann2"]["consensus"] == 2
    listed = client.get(
        reverse("annotate:project-items", args=[project.pk])
        + f"?labelled_by={u['ann3'].pk}&consensus=1&window=7d"
    ).content.decode()
    assert "labelled by two annotators" in listed


@pytest.mark.parametrize("bad", [-0.1, 1.01, "half", True, None, [0.5]])
def test_a_bad_consensus_share_is_400_with_field_and_reason(team, bad):
    project, u = team
    assert_api_refuses_share(u["own"], project, "consensus_share", bad)


def test_the_consensus_share_is_read_and_set_through_the_api(team):
    project, u = team
    url = reverse("api-pipeline", args=[project.pk])
    api = client_for(u["own"])
    assert api.get(url).json()["consensus_share"] == 0.0
    r = api.patch(url, {"consensus_share": 0.25}, format="json")
    assert r.status_code == 200 and r.json()["consensus_share"] == 0.25
    assert Pipeline.objects.get(project=project).consensus_share == 0.25


def test_the_settings_page_shows_the_share_and_keeps_a_bad_one_typed(team):
    project, u = team
    page, body = settings_page_share(
        u["own"], project, "consensus_share", bad="1.5", good="0.5"
    )
    assert 'name="consensus_share" data-testid="consensus-share" value="0.0"' in page
    assert "default 0" in page
    assert 'value="1.5"' in body


@pytest.mark.django_db(transaction=True)
def test_four_annotators_at_once_give_each_item_two_versions_by_two_people():
    project = make_project(UserFactory(username="c-own"))
    _share(project, 1.0)
    users = [
        add_member(project, Role.ANNOTATOR, UserFactory(username=f"c{i}"))
        for i in range(4)
    ]
    items = make_items(project, 3)
    barrier = threading.Barrier(len(users))
    errors = []

    def work(user):
        # Each keeps claiming until every item is in review: an item may come
        # back (a first version in) after this user found nothing to claim.
        try:
            barrier.wait()
            deadline = time.monotonic() + 60
            waiting = Item.objects.filter(project=project).exclude(
                status=ItemStatus.REVIEW
            )
            while waiting.exists() and time.monotonic() < deadline:
                t = queue_claim_next(project=project, user=user, kind="label")
                if t is None:
                    time.sleep(0.01)
                    continue
                task_submit(task=t, shapes=[box("circle", 5 + user.pk % 3)])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for item in items:
        item.refresh_from_db()
        subs = Task.objects.filter(item=item, kind="label", status="submitted")
        who = list(subs.values_list("assignee_id", flat=True))
        assert len(who) == len(set(who)) == 2, who
        assert item.status == ItemStatus.REVIEW and item.agreement is not None
    assert not Task.objects.filter(status="active").exists()


def test_an_item_assigned_to_the_first_annotator_opens_to_the_others(team):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    Item.objects.filter(pk=item.pk).update(assigned_to=u["ann"])  # a manager's
    assert queue_claim_next(project=project, user=u["ann2"], kind="label") is None
    _label(project, u["ann"], [box("circle", 5)])
    second = queue_claim_next(project=project, user=u["ann2"], kind="label")
    assert second is not None and second.item_id == item.pk


def test_the_item_page_shows_both_versions_with_their_agreement(team, client):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    _label(project, u["ann"], [box("circle", 5)])
    _label(project, u["ann2"], [box("circle", 5), box("rectangle", 40)])
    client.force_login(u["own"])
    body = client.get(
        reverse("annotate:project-item", args=[project.pk, item.pk])
    ).content.decode()
    assert body.count("· consensus agreement 67%") == 2


def test_a_rejected_consensus_item_is_compared_afresh_on_its_next_two_submits(team):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    first = _label(project, u["ann"], [box("circle", 5)])
    second = _label(project, u["ann2"], [box("triangle", 5)])
    item.refresh_from_db()
    assert item.agreement == 0.0 and item.status == ItemStatus.REVIEW
    review = queue_claim_next(project=project, user=u["rev"], kind="review")
    review_reject(task=review, comment="both wrong: it is a rectangle")
    item.refresh_from_db()
    # Back in labelling: the old agreement no longer describes the item.
    assert item.status == ItemStatus.UNLABELED
    assert (item.agreement, item.consensus_first_id) == (None, None)
    assert TaskSerializer(second).data["consensus"] is None
    # A new round: the first submit waits for a second annotator...
    again = _label(project, u["ann2"], [box("rectangle", 5)])
    item.refresh_from_db()
    assert item.status == ItemStatus.UNLABELED and item.consensus_first_id == again.pk
    assert queue_claim_next(project=project, user=u["rev"], kind="review") is None
    # ...whose submit is compared with it, and the item goes to review.
    last = _label(project, u["ann"], [box("rectangle", 5)])
    item.refresh_from_db()
    assert item.status == ItemStatus.REVIEW and item.agreement == 1.0
    review = queue_claim_next(project=project, user=u["rev"], kind="review")
    versions = TaskSerializer(review).data["consensus"]["versions"]
    assert [v["task"] for v in versions] == [again.pk, last.pk]
    # The first round's tasks keep their figure (the Work page's history).
    first.refresh_from_db()
    assert first.agreement == 0.0


def test_a_reopened_consensus_item_is_compared_afresh(team):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    _label(project, u["ann"], [box("circle", 5)])
    _label(project, u["ann2"], [box("circle", 5)])
    review_approve(task=queue_claim_next(project=project, user=u["rev"], kind="review"))
    item.refresh_from_db()
    item_reopen(item=item, actor=u["own"], comment="look again")
    item.refresh_from_db()
    assert (item.agreement, item.consensus_first_id) == (None, None)
    again = _label(project, u["ann2"], [box("circle", 5)])
    item.refresh_from_db()
    assert item.consensus_first_id == again.pk and item.status == ItemStatus.UNLABELED


def test_a_consensus_item_sent_back_to_labelling_in_bulk_is_compared_afresh(team):
    project, u = team
    _share(project, 1.0)
    (item,) = make_items(project, 1)
    _label(project, u["ann"], [box("circle", 5)])
    _label(project, u["ann2"], [box("triangle", 5)])
    items_bulk_apply(
        project=project, actor=u["own"], action="label", item_ids=[item.pk]
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.UNLABELED
    assert (item.agreement, item.consensus_first_id) == (None, None)
