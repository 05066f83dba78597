"""The re-review queue's page and API: flags by score with the shapes
involved, confirm and fix, and bad inputs (nothing changes, a reason)."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Event, FlagStatus, Item, LabelErrorFlag
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.curation import item_reopen
from annotate.services.labeling import items_make_ground_truth
from tests.api.helpers import client_for
from tests.factories import UserFactory, add_member, make_items, make_project

BOX = [10.0, 10.0, 20.0, 20.0]


def _candidate(kind, score, gt_index, pred_bbox):
    return {
        "kind": kind,
        "score": score,
        "reason": f"{kind} here",
        "label": "circle" if gt_index is not None else None,
        "predicted": "triangle",
        "iou": 0.9,
        "confidence": 0.9,
        "gt_index": gt_index,
        "pred_index": 0,
        "gt_bbox": BOX if gt_index is not None else None,
        "pred_bbox": pred_bbox,
    }


@pytest.fixture
def flagged(db):
    owner = UserFactory(username="lep-owner")
    project = make_project(owner, name="Flags")
    reviewer = add_member(project, Role.REVIEWER, UserFactory(username="lep-rev"))
    items = make_items(project, 3, start_seed=300)
    for item in items:
        shapes = [
            {"kind": "box", "label": "circle", "bbox": BOX},
            {"kind": "box", "label": "rectangle", "bbox": [50, 30, 20, 20]},
        ]
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    flags = [
        LabelErrorFlag.objects.create(
            project=project,
            item=item,
            model_version_id=7,
            model_name="v7",
            kind=kind,
            score=score,
            candidates=[_candidate(kind, score, gt, BOX)],
        )
        for item, kind, score, gt in zip(
            items,
            ["wrong_class", "missing_label", "shifted_box"],
            [0.4, 0.9, 0.6],
            [0, None, 0],
            strict=True,
        )
    ]
    return project, owner, reviewer, flags


def test_the_page_lists_flags_by_score_with_the_shapes_involved(client, flagged):
    project, _, reviewer, flags = flagged
    client.force_login(reviewer)
    page = client.get(reverse("annotate:label-errors", args=[project.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    order = [body.index(f'data-flag="{f.pk}"') for f in (flags[1], flags[2], flags[0])]
    assert order == sorted(order)
    first = body[order[0] : order[1]]  # the missing label: no label involved
    assert first.count('data-testid="approved-shape"') == 2
    assert 'data-testid="flagged-shape"' not in first
    assert first.count('data-testid="predicted-shape"') == 1
    second = body[order[1] : order[2]]  # a shifted box: one label involved
    assert second.count('data-testid="approved-shape"') == 1
    assert second.count('data-testid="flagged-shape"') == 1
    assert "shifted_box here" in second and "v7" in second
    assert "3 open flags" in body


def test_confirm_and_fix_from_the_page(client, flagged):
    project, _, reviewer, flags = flagged
    client.force_login(reviewer)
    url = reverse("annotate:label-error-confirm", args=[project.pk, flags[0].pk])
    response = client.post(url)
    assert response.status_code == 302
    flags[0].refresh_from_db()
    assert (flags[0].status, flags[0].resolved_by) == (FlagStatus.CONFIRMED, reviewer)
    url = reverse("annotate:label-error-fix", args=[project.pk, flags[1].pk])
    assert client.post(url, {"comment": "add the box"}).status_code == 302
    item = Item.objects.get(pk=flags[1].item_id)
    assert item.status == "unlabeled" and item.review_comment == "add the box"
    assert Event.objects.filter(verb="label_error_fixed", item=item).exists()
    page = client.get(reverse("annotate:label-errors", args=[project.pk]))
    assert "1 open flag," in page.content.decode()


def test_refusals_change_nothing_and_say_why(client, flagged):
    project, owner, reviewer, flags = flagged
    client.force_login(reviewer)
    LabelErrorFlag.objects.filter(pk=flags[0].pk).update(status="confirmed")
    url = reverse("annotate:label-error-confirm", args=[project.pk, flags[0].pk])
    response = client.post(url)
    assert response.status_code == 400
    assert "already answered" in response.content.decode()
    # The flagged item was reopened from its page meanwhile: fix refuses and
    # keeps the text.
    item_reopen(item=flags[1].item, actor=owner)
    url = reverse("annotate:label-error-fix", args=[project.pk, flags[1].pk])
    response = client.post(url, {"comment": "typed text"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "only a done item can be reopened" in body and 'value="typed text"' in body
    assert LabelErrorFlag.objects.get(pk=flags[1].pk).status == FlagStatus.OPEN
    assert Event.objects.filter(verb="item_reopened").count() == 1
    # Another project's flag, unknown ids: 404.
    other = make_project(owner, name="Other")
    url = reverse("annotate:label-error-fix", args=[other.pk, flags[2].pk])
    assert client.post(url).status_code == 404  # not a member there
    client.force_login(owner)
    assert client.post(url).status_code == 404  # a member, not its flag
    url = reverse("annotate:label-error-confirm", args=[project.pk, 10**12])
    assert client.post(url).status_code == 404


def test_the_api_lists_confirms_and_fixes(flagged):
    project, _, reviewer, flags = flagged
    api = client_for(reviewer)
    base = f"/api/v1/projects/{project.pk}/label-errors/"
    listed = api.get(base).json()
    assert listed["count"] == 3
    assert [r["id"] for r in listed["results"]] == [
        flags[1].pk,
        flags[2].pk,
        flags[0].pk,
    ]
    top = listed["results"][0]
    assert top["model_name"] == "v7" and top["candidates"][0]["pred_bbox"] == BOX
    done = api.post(f"{base}{flags[1].pk}/confirm/")
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    again = api.post(f"{base}{flags[1].pk}/confirm/")
    assert again.status_code == 400 and "flag" in again.json()
    too_long = api.post(f"{base}{flags[2].pk}/fix/", {"comment": "x" * 5001}, "json")
    assert too_long.status_code == 400 and "comment" in too_long.json()
    not_object = api.post(f"{base}{flags[2].pk}/fix/", [1], "json")
    assert not_object.status_code == 400
    assert LabelErrorFlag.objects.get(pk=flags[2].pk).status == FlagStatus.OPEN
    fixed = api.post(f"{base}{flags[2].pk}/fix/", {"comment": "move it"}, "json")
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed"
    assert Item.objects.get(pk=flags[2].item_id).status == "unlabeled"
    assert api.get(base).json()["count"] == 1
    assert api.get(base + "?page=9").status_code == 400
