"""Hidden ground-truth checks: with the project's check_share, a label claim may
serve an approved item again, looking like any item to label; its submit is
scored against the ground truth (ml.consensus.agreement), the ground truth never
changes, and the Work page and its API show each annotator's check score."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Annotation, Item, ItemStatus, Task
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from tests.annotate._team import (
    assert_api_refuses_share,
    box,
    make_team,
    settings_page_share,
)
from tests.api.helpers import client_for
from tests.api.test_io import export_coco
from tests.factories import make_items
from tests.models_mgmt.test_settings_page import FORM

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    project, users = make_team(
        "k-own", "Checks", (("k-ann", Role.ANNOTATOR), ("k-rev", Role.REVIEWER))
    )
    owner, ann, rev = users["own"], users["k-ann"], users["k-rev"]
    truth_a, truth_b, *todo = make_items(project, 4)
    for item, shapes in (
        (truth_a, [box("circle", 5), box("rectangle", 40)]),
        (truth_b, [box("circle", 5)]),
    ):
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=None
        )
    items_make_ground_truth(project=project, item_ids=[truth_a.pk, truth_b.pk])
    return project, owner, ann, rev, (truth_a, truth_b), todo


def _set_share(owner, project, share):
    r = client_for(owner).patch(
        reverse("api-pipeline", args=[project.pk]),
        {"check_share": share},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["check_share"] == share


def _next(api, project):
    return api.post(
        reverse("api-task-next", args=[project.pk]), {"kind": "label"}, format="json"
    )


def _submit(api, task_id, shapes):
    return api.post(
        reverse("api-task-submit", args=[task_id]),
        {"annotations": shapes},
        format="json",
    )


def _truth(item):
    return list(
        Annotation.objects.filter(item=item)
        .order_by("id")
        .values_list("label", "geometry", "source")
    )


def test_checks_are_hidden_scored_and_never_change_the_ground_truth(team, client):
    project, owner, ann, _, (truth_a, truth_b), todo = team
    before = {i.pk: (_truth(i), Item.objects.get(pk=i.pk)) for i in (truth_a, truth_b)}
    _set_share(owner, project, 1.0)
    api = client_for(ann)
    got = []
    for shapes in ([box("circle", 5)], [box("circle", 5)]):
        r = _next(api, project)
        assert r.status_code == 200, r.content
        task = r.json()
        # It looks like any item waiting to be labelled: no ground truth shown.
        assert task["item"]["status"] == "labeling" and task["item"]["split"] is None
        assert task["annotations"] == [] and task["item"]["priority_reason"] == {}
        image = api.get(task["item"]["image_url"])
        assert image.status_code == 200
        # Its image only: not the item with its ground truth, nor in a list.
        detail = api.get(reverse("api-item-detail", args=[task["item"]["id"]]))
        assert detail.status_code == 404
        listed = api.get(reverse("api-item-list", args=[project.pk])).json()
        assert task["item"]["id"] not in {i["id"] for i in listed["results"]}
        done = _submit(api, task["id"], shapes)
        assert done.status_code == 200
        assert (done.json()["item"]["status"], done.json()["item"]["split"]) == (
            "review",
            None,
        )
        got.append(task["item"]["id"])
    # With share 1 every claim is a check while unseen ground truth remains.
    assert got == [truth_a.pk, truth_b.pk]
    scores = dict(
        Task.objects.filter(is_check=True).values_list("item_id", "check_score")
    )
    # a: 1 match of 2 + 1 shapes; b: the same box.
    assert scores == {truth_a.pk: pytest.approx(2 / 3), truth_b.pk: 1.0}
    for pk, (shapes, item) in before.items():
        now = Item.objects.get(pk=pk)
        assert _truth(now) == shapes
        assert (now.status, now.version, now.split, now.approved_at) == (
            ItemStatus.DONE,
            item.version,
            item.split,
            item.approved_at,
        )
    # Then the queue itself: no ground truth left that the annotator never saw.
    r = _next(api, project)
    assert r.json()["item"]["id"] in {i.pk for i in todo}
    assert not Task.objects.get(pk=r.json()["id"]).is_check

    work = client_for(owner).get(reverse("api-work", args=[project.pk])).json()
    (row,) = [r for r in work["annotators"] if r["username"] == "k-ann"]
    assert (row["checks"], row["check_score"]) == (2, pytest.approx(5 / 6))
    assert row["items"] == 0  # checks are not labelling work
    client.force_login(owner)
    page = client.get(reverse("annotate:project-work", args=[project.pk]))
    link = f"?checked_by={ann.pk}&amp;window=7d"
    assert f'{link}" data-testid="fig-ann-checks">83% over 2 checks</a>' in (
        page.content.decode()
    )
    listed = client.get(
        reverse("annotate:project-items", args=[project.pk])
        + link.replace("&amp;", "&")
    ).content.decode()
    assert "checked by k-ann" in listed
    shown = {i.pk for i in (truth_a, truth_b, *todo) if f"/items/{i.pk}/" in listed}
    assert shown == {truth_a.pk, truth_b.pk}
    # The export's throughput lists labelling, not checks.
    doc = export_coco(client_for(owner), project)
    assert all("labelling" not in image for image in doc["images"])


def test_no_checks_by_default(team):
    project, _, ann, _, truths, todo = team
    r = _next(client_for(ann), project)
    assert r.json()["item"]["id"] in {i.pk for i in todo}
    assert not Task.objects.filter(is_check=True).exists()


def test_a_released_check_leaves_its_item_done_and_out_of_review(team):
    project, owner, ann, rev, (truth_a, _), _ = team
    _set_share(owner, project, 1.0)
    api = client_for(ann)
    task = _next(api, project).json()
    assert task["item"]["id"] == truth_a.pk
    r = api.post(reverse("api-task-release", args=[task["id"]]))
    assert r.status_code in (200, 204), r.content
    assert Item.objects.get(pk=truth_a.pk).status == ItemStatus.DONE
    task = _next(api, project).json()
    _submit(api, task["id"], [box("triangle", 5)])
    assert Item.objects.get(pk=task["item"]["id"]).status == ItemStatus.DONE
    review = client_for(rev).post(
        reverse("api-task-next", args=[project.pk]), {"kind": "review"}, format="json"
    )
    assert review.status_code == 204  # nothing went to review


def test_checks_only_mix_into_a_queue_with_work_waiting(team):
    project, owner, ann, _, _, todo = team
    items_make_ground_truth(project=project, item_ids=[i.pk for i in todo])
    _set_share(owner, project, 1.0)
    assert _next(client_for(ann), project).status_code == 204


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True, None])
def test_a_bad_check_share_is_400_with_field_and_reason(team, bad):
    project, owner, *_ = team
    assert_api_refuses_share(owner, project, "check_share", bad)


def test_the_settings_page_sets_the_check_share_and_keeps_a_bad_one_typed(team):
    project, owner, *_ = team
    page, body = settings_page_share(
        owner,
        project,
        "check_share",
        bad="2",
        good="0.1",
        form={
            **FORM,
            "strategy_params": "{}",
            "model_config": "{}",
            "comparison_config": "{}",
        },
    )
    assert 'name="check_share" data-testid="check-share" value="0.0"' in page
    assert 'name="check_share" data-testid="check-share" value="2"' in body
