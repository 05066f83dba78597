"""Tags on items: the bulk tag / untag action, the tag filter, the item page,
the API, and refused names (400, what was typed kept, nothing changed)."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Event, ItemTag
from tests.api.helpers import client_for
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _bulk(client, project, items, action, tag):
    return client.post(
        reverse("annotate:project-items-bulk", args=[project.pk]),
        {"action": action, "items": [i.pk for i in items], "tag_name": tag},
    )


def _tags(project) -> set[tuple[int, str]]:
    return set(ItemTag.objects.filter(project=project).values_list("item_id", "name"))


def test_bulk_tag_filter_item_page_and_untag(client, project_roles):
    project, users, _ = project_roles
    a, b, c = make_items(project, 3)
    client.force_login(users[Role.ANNOTATION_MANAGER])
    response = _bulk(client, project, [a, b], "tag", "  night shift ")
    assert response.status_code == 302
    assert _tags(project) == {(a.pk, "night shift"), (b.pk, "night shift")}
    assert Event.objects.filter(verb="item_tagged").count() == 2
    # Tagging again changes nothing and adds no duplicate.
    assert _bulk(client, project, [a, c], "tag", "night shift").status_code == 302
    assert len(_tags(project)) == 3
    url = reverse("annotate:project-items", args=[project.pk])
    response = client.get(url + "?tag=night+shift")
    assert {i.pk for i in response.context["page"]} == {a.pk, b.pk, c.pk}
    assert "night shift" in response.content.decode()  # a choice in the filter
    page = client.get(reverse("annotate:project-item", args=[project.pk, a.pk]))
    assert 'data-testid="item-tag"' in page.content.decode()
    assert "?tag=night%20shift" in page.content.decode()
    assert _bulk(client, project, [a, b], "untag", "night shift").status_code == 302
    assert _tags(project) == {(c.pk, "night shift")}
    response = client.get(url + "?tag=night+shift")
    assert [i.pk for i in response.context["page"]] == [c.pk]


@pytest.mark.parametrize(
    ("action", "tag", "reason"),
    [
        ("tag", "x" * 65, "at most 64 characters"),
        ("tag", "", "give a tag name"),
        ("tag", "<script>", "a tag holds letters"),
        ("tag", "-dash", "a tag holds letters"),
        ("untag", "never-used", "none of the selected items carries"),
    ],
)
def test_refused_tags_are_400_and_keep_what_was_typed(
    client, project_roles, action, tag, reason
):
    project, users, _ = project_roles
    items = make_items(project, 2)
    client.force_login(users[Role.OWNER])
    response = _bulk(client, project, items, action, tag)
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in body
    if tag and tag != "<script>":
        assert f'value="{tag}"' in body  # the box keeps what was typed
    assert f'value="{items[0].pk}" form="bulk-form" checked' in body
    assert _tags(project) == set()
    assert not Event.objects.filter(verb__in=["item_tagged", "item_untagged"])


def test_tag_on_items_of_another_project_is_refused(
    client, project_roles, other_project
):
    project, users, _ = project_roles
    (foreign,) = make_items(other_project, 1, start_seed=50)
    client.force_login(users[Role.OWNER])
    response = _bulk(client, project, [foreign], "tag", "mine")
    assert response.status_code == 400
    assert not ItemTag.objects.exists()


def test_filter_by_an_unknown_tag_says_so(client, project_roles):
    project, users, _ = project_roles
    make_items(project, 2)
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-items", args=[project.pk])
    response = client.get(url + "?tag=nothing")
    assert "tag “nothing” is on no item of this project" in (response.content.decode())
    assert len(response.context["page"]) == 2  # the filter dropped, not an error


def test_tags_through_the_api(project_roles):
    project, users, _ = project_roles
    a, b = make_items(project, 2)
    api = client_for(users[Role.DEVELOPER])
    url = f"/api/v1/projects/{project.pk}/items/tags/"
    r = api.post(url, {"items": [a.pk, b.pk], "tag": "blurry"}, format="json")
    assert (r.status_code, r.json()) == (200, {"changed": 2})
    r = api.post(
        url, {"items": [a.pk], "tag": "blurry", "action": "untag"}, format="json"
    )
    assert (r.status_code, r.json()) == (200, {"changed": 1})
    assert _tags(project) == {(b.pk, "blurry")}
    for body, field in (
        ({"items": [a.pk], "tag": "y" * 65}, "tag"),
        ({"items": [a.pk], "tag": "a\u200bb"}, "tag"),
        ({"items": [a.pk], "tag": "ok", "action": "paint"}, "action"),
        ({"items": [], "tag": "ok"}, "items"),
        ({"items": [999999], "tag": "ok"}, "items"),
        ({"items": [a.pk], "tag": "never", "action": "untag"}, "tag"),
    ):
        r = api.post(url, body, format="json")
        assert r.status_code == 400 and field in r.json(), (body, r.content)
    assert _tags(project) == {(b.pk, "blurry")}
    r = client_for(users[Role.REVIEWER]).post(
        url, {"items": [a.pk], "tag": "x"}, format="json"
    )
    assert r.status_code == 403


def test_api_item_list_filters_by_tag_and_detail_shows_tags(project_roles):
    project, users, _ = project_roles
    a, b = make_items(project, 2)
    api = client_for(users[Role.OWNER])
    url = f"/api/v1/projects/{project.pk}/items/tags/"
    api.post(url, {"items": [b.pk], "tag": "rare"}, format="json")
    r = api.get(f"/api/v1/projects/{project.pk}/items/?tag=rare")
    assert [i["id"] for i in r.json()["results"]] == [b.pk]
    r = api.get(f"/api/v1/projects/{project.pk}/items/?tag=nope")
    assert r.status_code == 400 and "tag" in r.json()
    assert api.get(f"/api/v1/items/{b.pk}/").json()["tags"] == ["rare"]
    assert api.get(f"/api/v1/items/{a.pk}/").json()["tags"] == []
