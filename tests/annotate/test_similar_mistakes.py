"""Find similar mistakes (issue 14): from a label error a reviewer confirmed by
fixing it, the nearest ground-truth items by stored embedding are flagged for
re-review with the reason; end to end through the re-review page and the API."""

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alweb.roles import Role
from annotate.models import Event, FlagStatus, Item, ItemStatus, LabelErrorFlag
from tests.annotate.test_mining import bulk_items


def _world(project):
    """A seed item and 30 ground-truth items: 6 near the seed (the first
    nearest), 24 in another direction; the seed flagged by model version 7."""
    rng = np.random.default_rng(14)
    seed_vec = np.array([1.0, 0.0, 0.0, 0.0])
    near = [seed_vec + rng.normal(0, 0.02 * (n + 1), 4) for n in range(6)]
    far = [np.array([0.0, 1.0, 0.0, 0.0]) + rng.normal(0, 0.05, 4) for _ in range(24)]
    items = bulk_items(project, [seed_vec, *near, *far], status=ItemStatus.DONE)
    seed, near_items = items[0], items[1:7]
    flag = LabelErrorFlag.objects.create(
        project=project,
        item=seed,
        model_version_id=7,
        model_name="v3",
        kind="wrong_class",
        score=0.8,
        candidates=[{"kind": "wrong_class", "score": 0.8, "reason": "circle?"}],
    )
    return seed, near_items, items[7:], flag


def test_a_fixed_error_flags_its_nearest_labelled_items(client, project_roles):
    project, users, _ = project_roles
    seed, near, far, flag = _world(project)
    reviewer = users[Role.REVIEWER]
    client.force_login(reviewer)
    similar = reverse("annotate:label-error-similar", args=[project.pk, flag.pk])
    # An open flag is not yet a confirmed error: nothing is flagged.
    r = client.post(similar, {"k": "6"})
    assert r.status_code == 400
    assert "only a fixed flag" in r.content.decode()
    assert LabelErrorFlag.objects.filter(kind="similar").count() == 0
    # The reviewer fixes it (reopens the item): now it seeds the search.
    fix = reverse("annotate:label-error-fix", args=[project.pk, flag.pk])
    assert client.post(fix, {"comment": "it is a triangle"}).status_code == 302
    page = client.get(reverse("annotate:label-errors", args=[project.pk]))
    assert f'data-testid="fixed-flag" data-flag="{flag.pk}"' in page.content.decode()
    r = client.post(similar, {"k": "6"}, follow=True)
    assert r.status_code == 200
    body = r.content.decode()
    assert "Flagged 6 items similar to" in body
    flags = LabelErrorFlag.objects.filter(project=project, kind="similar")
    assert sorted(flags.values_list("item_id", flat=True)) == sorted(i.pk for i in near)
    reason = f"similar to item {seed.pk}&#x27;s confirmed label error (wrong_class"
    assert body.count(reason) == 6  # each card in the re-review queue says why
    first = flags.order_by("-score").first()
    assert first.status == FlagStatus.OPEN and first.model_version_id == 7
    cand = first.candidates[0]
    assert cand["similar_to"] == seed.pk and cand["seed_flag"] == flag.pk
    assert 0 < first.score <= 0.8
    event = Event.objects.get(project=project, verb="label_error_similar_flagged")
    assert event.actor == reviewer and sorted(event.data["items"]) == sorted(
        i.pk for i in near
    )
    # Again, wider: the six already flagged are left alone, the next ones come.
    r = client.post(similar, {"k": "8"})
    assert r.status_code == 302
    assert flags.count() == 8
    assert set(flags.values_list("item_id", flat=True)) - {i.pk for i in near} <= {
        i.pk for i in far
    }
    # A bad k keeps the page and says why.
    r = client.post(similar, {"k": "lots"})
    assert r.status_code == 400 and "k must be a whole number" in r.content.decode()


def test_the_api_flags_similar_mistakes_and_names_bad_input(project_roles):
    project, users, _ = project_roles
    seed, near, _, flag = _world(project)
    LabelErrorFlag.objects.filter(pk=flag.pk).update(status=FlagStatus.FIXED)
    api = APIClient()
    api.force_authenticate(users[Role.OWNER])
    url = f"/api/v1/projects/{project.pk}/label-errors/{flag.pk}/similar/"
    r = api.post(url, {"k": 0}, format="json")
    assert r.status_code == 400 and "k" in r.json()
    r = api.post(url, {"k": 3}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["flagged"] == 3 and body["skipped"] == 0
    assert set(body["items"]) <= {i.pk for i in near}
    listed = api.get(f"/api/v1/projects/{project.pk}/label-errors/").json()
    similar = [f for f in listed["results"] if f["kind"] == "similar"]
    assert len(similar) == 3
    assert similar[0]["candidates"][0]["similar_to"] == seed.pk
    assert "confirmed label error" in similar[0]["candidates"][0]["reason"]
    # An item without an embedding yet: 409 with the reason.
    Item.objects.filter(pk=seed.pk).update(embedding=None)
    r = api.post(url, {}, format="json")
    assert r.status_code == 409


@pytest.mark.parametrize("role", [Role.ANNOTATOR])
def test_who_may_not_review_may_not_mine(client, project_roles, role):
    project, users, _ = project_roles
    _, _, _, flag = _world(project)
    LabelErrorFlag.objects.filter(pk=flag.pk).update(status=FlagStatus.FIXED)
    client.force_login(users[role])
    url = reverse("annotate:label-error-similar", args=[project.pk, flag.pk])
    assert client.post(url).status_code == 403
    assert not LabelErrorFlag.objects.filter(kind="similar").exists()
