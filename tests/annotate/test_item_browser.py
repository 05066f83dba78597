"""The item browser (search, filters, bulk actions) and the item page (shapes,
history, scores, reopen for correction)."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.demo_data import synthetic_image
from annotate.models import Event, Item, ItemStatus, Task
from annotate.services import curation
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import (
    items_make_ground_truth,
    review_approve,
    task_submit,
)
from annotate.services.predictions import Priority, item_priorities_set
from annotate.services.queue import queue_claim_next
from annotate.views_items import BULK_CHOICES
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _items_url(project, **query):
    url = reverse("annotate:project-items", args=[project.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _done(project, items, owner):
    for item in items:
        shapes = shapes_validate(item=item, shapes=synthetic_image(1, 96, 72).shapes)
        annotations_replace(item=item, shapes=shapes, author=owner)
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])


def _ids(response):
    return [i.pk for i in response.context["page"]]


def test_search_by_file_name_and_filters(client, project_roles):
    project, users, _ = project_roles
    items = make_items(project, 4)
    Item.objects.filter(pk=items[0].pk).update(original_name="cat-001.png")
    Item.objects.filter(pk=items[1].pk).update(
        original_name="dog.png", last_annotator=users[Role.ANNOTATOR]
    )
    annotations_replace(
        item=items[2],
        shapes=shapes_validate(
            item=items[2],
            shapes=[{"kind": "box", "label": project.labels[0], "bbox": [1, 1, 9, 9]}],
        ),
        author=users[Role.OWNER],
    )
    client.force_login(users[Role.ANNOTATION_MANAGER])
    assert _ids(client.get(_items_url(project, q="CAT"))) == [items[0].pk]
    annotator = users[Role.ANNOTATOR].pk
    assert _ids(client.get(_items_url(project, annotator=annotator))) == [items[1].pk]
    label = project.labels[0]
    assert _ids(client.get(_items_url(project, label=label))) == [items[2].pk]
    body = client.get(_items_url(project)).content.decode()
    url = reverse("annotate:project-item", args=[project.pk, items[0].pk])
    assert f'href="{url}"' in body  # the thumbnail opens the item page


@pytest.mark.parametrize(
    "query", ["label=nope", "annotator=999999", "annotator=x", "status=bad"]
)
def test_bad_filter_is_a_message_not_an_error(client, project_roles, query):
    project, users, _ = project_roles
    make_items(project, 2)
    client.force_login(users[Role.OWNER])
    response = client.get(_items_url(project) + "?" + query)
    assert response.status_code == 200
    assert len(response.context["page"]) == 2  # the unfiltered list
    assert "must be one of" in response.content.decode() or "member" in (
        response.content.decode()
    )


def test_a_non_members_id_is_no_annotator_filter(client, project_roles, other_project):
    project, users, outsider = project_roles
    make_items(project, 1)
    client.force_login(users[Role.OWNER])
    body = client.get(_items_url(project, annotator=outsider.pk)).content.decode()
    assert "annotator must be a member" in body


def _bulk(client, project, action, ids, **extra):
    url = reverse("annotate:project-items-bulk", args=[project.pk])
    return client.post(url, {"action": action, "items": ids, **extra})


def test_bulk_actions_change_the_items_and_log_events(client, project_roles):
    project, users, _ = project_roles
    items = make_items(project, 3)
    ids = [i.pk for i in items]
    client.force_login(users[Role.ANNOTATION_MANAGER])
    assert _bulk(client, project, "skip", ids[:2]).status_code == 302
    assert set(
        Item.objects.filter(pk__in=ids[:2]).values_list("status", flat=True)
    ) == {ItemStatus.SKIPPED}
    assert Event.objects.filter(verb="item_skip").count() == 2
    assert _bulk(client, project, "review", ids[:1]).status_code == 302
    assert Item.objects.get(pk=ids[0]).status == ItemStatus.REVIEW
    assert _bulk(client, project, "label", ids[:2]).status_code == 302
    assert Item.objects.get(pk=ids[1]).status == ItemStatus.UNLABELED
    assert _bulk(client, project, "pin", [ids[2]]).status_code == 302
    pinned = Item.objects.get(pk=ids[2])
    assert pinned.pin == "pinned" and pinned.priority == curation.PIN_PRIORITY
    # The loop's next scoring leaves the pinned item where the manager put it.
    item_priorities_set(
        project=project,
        priorities={i: Priority(0.5, {"strategy": "entropy"}) for i in ids},
    )
    assert Item.objects.get(pk=ids[2]).priority == curation.PIN_PRIORITY
    assert Item.objects.get(pk=ids[1]).priority == 0.5
    assert _bulk(client, project, "demote", [ids[2]]).status_code == 302
    assert Item.objects.get(pk=ids[2]).priority == curation.DEMOTE_PRIORITY


def test_assign_puts_the_item_in_that_annotators_queue_only(client, project_roles):
    project, users, _ = project_roles
    low, high = make_items(project, 2)
    Item.objects.filter(pk=high.pk).update(priority=0.9)
    annotator = users[Role.ANNOTATOR]
    client.force_login(users[Role.OWNER])
    response = _bulk(client, project, "assign", [low.pk], assign_to=annotator.pk)
    assert "assignee=" not in response["Location"]  # no stray assigned-to filter
    assert response.status_code == 302
    assert Item.objects.get(pk=low.pk).assigned_to == annotator
    # Someone else never gets it; the assignee gets it first despite priority.
    other = queue_claim_next(project=project, user=users[Role.DEVELOPER], kind="label")
    assert other.item_id == high.pk
    mine = queue_claim_next(project=project, user=annotator, kind="label")
    assert mine.item_id == low.pk


@pytest.mark.parametrize(
    "action,ids,extra,reason",
    [
        ("fly", "own", {}, "action must be one of"),
        ("skip", [], {}, "select at least one item"),
        ("skip", ["x"], {}, "whole numbers"),
        ("skip", [999999], {}, "not items of this project"),
        ("skip", "other", {}, "not items of this project"),
        ("review", "done", {}, "applies to"),
        ("assign", "own", {}, "choose a member"),
        ("assign", "own", {"assign_to": "outsider"}, "choose a member"),
        ("assign", "own", {"assign_to": "reviewer"}, "choose a member"),
        ("label", "held", {}, "holds a claim"),
    ],
)
def test_bad_bulk_input_changes_nothing_and_says_why(
    client, project_roles, other_project, action, ids, extra, reason
):
    project, users, outsider = project_roles
    own = make_items(project, 2)
    done = make_items(project, 1, start_seed=50)
    _done(project, done, users[Role.OWNER])
    (foreign,) = make_items(other_project, 1, start_seed=90)
    Item.objects.filter(pk=own[0].pk).update(status=ItemStatus.REVIEW)
    held = queue_claim_next(project=project, user=users[Role.REVIEWER], kind="review")
    named = {
        "own": [own[1].pk],
        "other": [own[1].pk, foreign.pk],
        "done": [done[0].pk],
        "held": [held.item_id],
    }
    chosen = named[ids] if isinstance(ids, str) else ids
    if extra.get("assign_to") == "outsider":
        extra = {"assign_to": outsider.pk}
    elif extra.get("assign_to") == "reviewer":
        extra = {"assign_to": users[Role.REVIEWER].pk}
    before = list(Item.objects.order_by("pk").values())
    events = Event.objects.count()
    client.force_login(users[Role.OWNER])
    response = _bulk(client, project, action, chosen, q="", **extra)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert list(Item.objects.order_by("pk").values()) == before
    assert Event.objects.count() == events
    # What was chosen is kept: the checked boxes and the action.
    body = response.content.decode()
    shown = set(project.items.values_list("pk", flat=True))
    for pk in chosen:
        if pk in shown:
            assert f'value="{pk}" form="bulk-form" checked' in body, pk
    if action in dict(BULK_CHOICES):
        assert f'<option value="{action}" selected>' in body


def test_item_page_draws_shapes_and_shows_history_scores(client, project_roles):
    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    owner = users[Role.OWNER]
    item_priorities_set(
        project=project,
        priorities={
            item.pk: Priority(
                0.7,
                {
                    "strategy": "entropy",
                    "rank": 0,
                    "in_batch": True,
                    "model_name": "v3",
                    "components": {"uncertainty": 0.42},
                },
            )
        },
    )
    task = queue_claim_next(project=project, user=users[Role.ANNOTATOR], kind="label")
    shapes = synthetic_image(1, 96, 72).shapes
    task_submit(task=task, shapes=shapes)
    client.force_login(owner)
    body = client.get(
        reverse("annotate:project-item", args=[project.pk, item.pk])
    ).content.decode()
    assert body.count('data-testid="item-overlay-shape"') == len(shapes)
    # The submitted version is drawn in the history too.
    assert body.count('data-testid="version-overlay"') == 1
    assert body.count('data-testid="version-overlay-shape"') == len(shapes)
    assert "in the next batch of entropy (pick 1); scored by v3" in body
    assert "uncertainty" in body and "0.420" in body
    assert "label_submitted" in body and "annotator1" in body
    assert 'data-testid="reopen"' not in body  # not done yet
    assert 'style="' not in body  # the CSP allows no inline style


def test_item_page_of_another_project_is_404(client, project_roles, other_project):
    project, users, _ = project_roles
    (foreign,) = make_items(other_project, 1)
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-item", args=[project.pk, foreign.pk])
    assert client.get(url).status_code == 404
    url = reverse("annotate:project-item-reopen", args=[project.pk, foreign.pk])
    assert client.post(url).status_code == 404


def test_reopen_goes_through_labelling_and_review_and_keeps_the_split(
    client, project_roles, django_capture_on_commit_callbacks
):
    from models_mgmt.models import Evaluation, ModelVersion

    project, users, _ = project_roles
    items = make_items(project, 6)
    _done(project, items, users[Role.OWNER])
    item = Item.objects.filter(pk__in=[i.pk for i in items]).order_by("pk").last()
    split, version = item.split, item.version
    old = list(item.annotations.values_list("label", flat=True))
    mv = ModelVersion.objects.create(project=project, number=1, name="v1")
    used = Evaluation.objects.create(
        project=project, model_version=mv, test_item_ids=[item.pk]
    )
    other = Evaluation.objects.create(
        project=project, model_version=mv, test_item_ids=[items[0].pk]
    )
    client.force_login(users[Role.ANNOTATION_MANAGER])
    url = reverse("annotate:project-item-reopen", args=[project.pk, item.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"comment": "the box is too small"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.split, item.held_split) == ("unlabeled", None, split)
    event = Event.objects.get(verb="item_reopened", item=item)
    assert [s["label"] for s in event.data["shapes"]] == old
    assert event.data["version"] == version and event.data["split"] == split
    used.refresh_from_db()
    other.refresh_from_db()
    assert used.stale and not other.stale
    api = client.get(f"/api/v1/projects/{project.pk}/evaluations/").json()
    assert {e["id"]: e["stale"] for e in api["results"]} == {
        used.pk: True,
        other.pk: False,
    }
    other.delete()  # the version page shows its newest evaluation: now `used`
    page = client.get(reverse("models_mgmt:version", args=[project.pk, 1]))
    assert 'data-testid="evaluation-stale"' in page.content.decode()
    # A second reopen of the same (no longer done) item is refused, unchanged.
    again = client.post(url)
    assert again.status_code == 400 and "only a done item" in again.content.decode()
    # Through labelling, then review again; approval gives the split back.
    label = queue_claim_next(project=project, user=users[Role.ANNOTATOR], kind="label")
    assert label.item_id == item.pk
    task_submit(task=label, shapes=synthetic_image(2, 96, 72).shapes)
    review = queue_claim_next(project=project, user=users[Role.REVIEWER], kind="review")
    assert review.item_id == item.pk
    review_approve(task=review)
    item.refresh_from_db()
    assert (item.status, item.split, item.held_split) == ("done", split, None)
    assert item.version > version
    assert Task.objects.filter(item=item, kind="review", status="approved").exists()


def test_reopen_is_refused_to_roles_without_assign_and_to_outsiders(
    client, project_roles
):
    project, users, outsider = project_roles
    (item,) = make_items(project, 1)
    _done(project, [item], users[Role.OWNER])
    url = reverse("annotate:project-item-reopen", args=[project.pk, item.pk])
    for role in (Role.REVIEWER, Role.ANNOTATOR):
        client.force_login(users[role])
        assert client.post(url).status_code == 403
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    item.refresh_from_db()
    assert item.status == "done"


def test_model_disagreement_filters_flags_and_committee_scores(client, project_roles):
    from annotate.models import LabelErrorFlag

    project, users, _ = project_roles
    items = make_items(project, 5)
    _done(project, items[:3], users[Role.OWNER])
    for item, status in ((items[0], "open"), (items[1], "confirmed")):
        LabelErrorFlag.objects.create(
            project=project,
            item=item,
            model_version_id=7,
            model_name="v2",
            kind="missing",
            score=0.8,
            status=status,
        )
    Item.objects.filter(pk=items[3].pk).update(score_components={"disagreement": 0.7})
    Item.objects.filter(pk=items[4].pk).update(score_components={"disagreement": 0.2})
    client.force_login(users[Role.ANNOTATION_MANAGER])
    response = client.get(_items_url(project, disagree="labels"))
    assert _ids(response) == [items[0].pk]  # the confirmed flag is no disagreement
    body = response.content.decode()
    assert 'data-testid="disagree-meaning"' in body and "possible-label-error" in body
    assert '<option value="labels" title=' in body and "selected>with the labels" in (
        body
    )
    assert _ids(client.get(_items_url(project, disagree="versions"))) == [items[3].pk]
    both = client.get(_items_url(project, disagree="labels", status="unlabeled"))
    assert _ids(both) == []
    bad = client.get(_items_url(project, disagree="<b>yes"))
    assert bad.status_code == 200 and len(bad.context["page"]) == 5
    assert "disagree must be one of labels, versions" in bad.content.decode()
    assert "<b>yes" not in bad.content.decode()
