"""Similar-item mining and data drift through the pages and the API: the
results with distances, sending to labelling, bad input (400 with the field),
items without an embedding (409), the drift panel against hand counts."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Event, Item
from annotate.selectors_mining import drift_weeks
from tests.annotate.test_mining import bulk_items
from tests.api.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def mined(project_roles):
    project, users, _ = project_roles
    (source,) = bulk_items(project, [[1.0, 0.0, 0.0]], status="done", tag="src")
    pool = bulk_items(
        project, [[1.0, 0.2, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.1]], tag="pool"
    )
    (bare,) = bulk_items(project, [None], tag="bare")
    return project, users, source, pool, bare


def test_the_item_page_links_to_its_similar_items_with_distances(client, mined):
    project, users, source, pool, _ = mined
    client.force_login(users[Role.ANNOTATION_MANAGER])
    page = client.get(reverse("annotate:project-item", args=[project.pk, source.pk]))
    assert b'data-testid="find-similar"' in page.content
    url = reverse("annotate:project-items-similar", args=[project.pk])
    page = client.get(f"{url}?items={source.pk}&k=2")
    assert page.status_code == 200
    body = page.content.decode()
    near, _, nearest = pool
    assert body.index(f'similar-{nearest.pk}"') < body.index(f'similar-{near.pk}"')
    assert f'similar-{pool[1].pk}"' not in body  # k=2
    assert 'data-testid="similar-send"' in body  # a manager may send them


def test_bad_k_and_items_without_an_embedding_say_why(client, mined):
    project, users, source, _, bare = mined
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-items-similar", args=[project.pk])
    for k in ("0", "abc", "501"):
        page = client.get(f"{url}?items={source.pk}&k={k}")
        assert page.status_code == 400
        assert b"Cannot search: k: k must be" in page.content
        assert f'value="{k}"'.encode() in page.content  # what was typed stays
    page = client.get(f"{url}?items={bare.pk}")
    assert page.status_code == 409
    assert b"no embedding yet for item" in page.content
    assert client.get(url).status_code == 400  # no item at all


def test_sending_to_labelling_puts_the_items_first_with_the_reason(client, mined):
    project, users, source, pool, bare = mined
    client.force_login(users[Role.ANNOTATION_MANAGER])
    url = reverse("annotate:project-items-similar-send", args=[project.pk])
    response = client.post(
        url, {"similar_to": [source.pk], "items": [pool[0].pk, pool[2].pk]}
    )
    assert response.status_code == 302
    items = client.get(response["Location"])
    body = items.content.decode()
    grid = body[body.index('data-testid="item-grid"') :]
    first = grid.index('<li class="thumb"')
    assert grid[first:].startswith(f'<li class="thumb" data-testid="item-{pool[2].pk}"')
    second = grid.index('<li class="thumb"', first + 1)
    assert grid[second:].startswith(
        f'<li class="thumb" data-testid="item-{pool[0].pk}"'
    )
    assert f"similar to item {source.pk}" in body
    # A refusal keeps the boxes checked and changes nothing.
    before = list(Item.objects.values_list("pk", "priority", "pin"))
    response = client.post(url, {"similar_to": [source.pk], "items": [bare.pk]})
    assert response.status_code == 409
    assert b"Nothing was changed" in response.content
    response = client.post(url, {"similar_to": [source.pk], "items": [source.pk]})
    assert response.status_code == 400
    assert b"only unlabelled items go to labelling" in response.content
    assert list(Item.objects.values_list("pk", "priority", "pin")) == before


def test_the_item_browser_finds_items_similar_to_a_selection(client, mined):
    project, users, source, pool, _ = mined
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-items-bulk", args=[project.pk])
    response = client.post(url, {"action": "similar", "items": [source.pk, pool[1].pk]})
    assert response.status_code == 302
    assert f"items={source.pk}&items={pool[1].pk}" in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"by their centroid" in page.content
    response = client.post(url, {"action": "similar"})
    assert response.status_code == 400
    assert b"select at least one" in response.content


def test_the_api_lists_similar_items_and_prioritises_them(mined):
    project, users, source, pool, bare = mined
    api = client_for(users[Role.DEVELOPER])
    base = f"/api/v1/projects/{project.pk}/items/"
    body = api.get(f"{base}{source.pk}/similar/?k=2").json()
    assert body["k"] == 2 and body["query"] == [source.pk]
    assert [r["item"]["id"] for r in body["results"]] == [pool[2].pk, pool[0].pk]
    assert body["results"][0]["distance"] < body["results"][1]["distance"]
    bucket = api.get(
        f"{base}similar/?items={source.pk}&items={pool[1].pk}&k=1&mode=union"
    ).json()
    assert len(bucket["results"]) == 1
    for bad in ("0", "501", "x"):
        response = api.get(f"{base}{source.pk}/similar/?k={bad}")
        assert response.status_code == 400 and "k" in response.json()
    assert api.get(f"{base}similar/?items={source.pk}&mode=x").status_code == 400
    assert api.get(f"{base}similar/").status_code == 400
    huge = api.get(f"{base}similar/?items={2**64}")
    assert huge.status_code == 400 and "items" in huge.json()
    response = api.get(f"{base}{bare.pk}/similar/")
    assert response.status_code == 409
    assert "no embedding yet" in response.json()["detail"]
    response = api.post(
        f"{base}similar/prioritise/",
        {"similar_to": [source.pk], "items": [pool[0].pk]},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"prioritised": 1}
    item = api.get(f"/api/v1/items/{pool[0].pk}/").json()
    assert item["priority_reason"]["similar_to"] == [source.pk]
    assert item["priority_why"].startswith(f"similar to item {source.pk}")
    for body, field in (
        ({"similar_to": [source.pk], "items": []}, "items"),
        ({"similar_to": [source.pk], "items": ["a"]}, "items"),
        ({"items": [pool[1].pk]}, "similar_to"),
        ({"similar_to": [source.pk], "items": [source.pk]}, "items"),
    ):
        response = api.post(f"{base}similar/prioritise/", body, format="json")
        assert response.status_code == 400 and field in response.json(), body
    assert Event.objects.filter(verb="item_similar_prioritised").count() == 1


def _at(project, when: datetime, ood: float | None):
    (item,) = bulk_items(project, [[1.0]], tag=f"d{when:%m%d%H}-{ood}")
    components = {} if ood is None else {"ood": ood}
    Item.objects.filter(pk=item.pk).update(created_at=when, score_components=components)


def test_the_drift_panel_counts_out_of_distribution_items_per_week(
    client, project_roles
):
    project, users, _ = project_roles
    # Week of Mon 2026-11-16: 4 scored, 1 above 0.95 (0.95 itself is not), 1
    # unscored. Week of Mon 2026-11-23: 2 scored, both above: a warning.
    for day, ood in (
        (16, 0.2),
        (17, 0.95),
        (18, 0.99),
        (22, 0.5),
        (22, None),
        (23, 0.97),
        (29, 1.0),
    ):
        _at(project, datetime(2026, 11, day, 12, tzinfo=UTC), ood)
    weeks = drift_weeks(project=project, today=date(2026, 12, 1))
    assert [(w.start, w.uploaded, w.scored, w.flagged) for w in weeks] == [
        (date(2026, 11, 16), 5, 4, 1),
        (date(2026, 11, 23), 2, 2, 2),
    ]
    assert [w.share for w in weeks] == [0.25, 1.0]
    assert [w.warn for w in weeks] == [True, True]  # above 20 %
    client.force_login(users[Role.ANNOTATION_MANAGER])
    page = client.get(reverse("annotate:project-detail", args=[project.pk]))
    body = page.content.decode()
    assert 'data-testid="drift-2026-11-23"' in body
    assert body.count('data-testid="drift-warning"') == 2
    assert f"/projects/{project.pk}/items/?ood=1" in body
    # The link's filter: the three items above the threshold.
    items = client.get(reverse("annotate:project-items", args=[project.pk]) + "?ood=1")
    assert b"3 items" in items.content
    # Weeks before the window are left out.
    assert drift_weeks(project=project, today=date(2027, 6, 1)) == []


def test_an_unknown_ood_filter_value_says_why(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-items", args=[project.pk])
    page = client.get(f"{url}?ood=yes")
    assert b"ood must be 1" in page.content
