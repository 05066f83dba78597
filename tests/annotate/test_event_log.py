"""The event log page: newest first, filtered by kind and by who, paged by keyset,
bad filters answered with 400 and the filters kept; linked from the navigation."""

import re

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Event
from annotate.selectors_events import EVENT_PAGE_SIZE
from annotate.services.events import event_log
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _ids(response) -> list[int]:
    return [
        int(i)
        for i in re.findall(r'data-testid="event-(\d+)"', response.content.decode())
    ]


@pytest.fixture
def log(project_roles):
    """The project's log: the owner's item events, the annotator's submits and
    system checks, interleaved, 2 * EVENT_PAGE_SIZE + 10 events in all."""
    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    Event.objects.filter(project=project).delete()
    made = []
    for n in range(2 * EVENT_PAGE_SIZE + 10):
        if n % 3 == 0:
            e = event_log(
                project_id=project.pk,
                actor=users[Role.OWNER],
                verb="item_created",
                item_id=item.pk,
                n=n,
            )
        elif n % 3 == 1:
            e = event_log(
                project_id=project.pk,
                actor=users[Role.ANNOTATOR],
                verb="label_submitted",
                n=n,
            )
        else:
            e = event_log(project_id=project.pk, verb="kpi_checked", n=n)
        made.append(e)
    return project, users, item, made


def _url(project, **query):
    url = reverse("annotate:project-events", args=[project.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def test_the_log_lists_newest_first_and_pages_to_the_oldest(client, log):
    project, users, item, made = log
    client.force_login(users[Role.ANNOTATION_MANAGER])
    newest = [e.pk for e in reversed(made)]
    seen, url = [], _url(project)
    for _ in range(5):
        response = client.get(url)
        assert response.status_code == 200
        page = _ids(response)
        assert len(page) <= EVENT_PAGE_SIZE
        seen += page
        older = re.search(
            r'href="\?([^"]+)" data-testid="older-page"', response.content.decode()
        )
        if older is None:
            break
        url = _url(project) + "?" + older.group(1).replace("&amp;", "&")
    assert seen == newest  # every event once, in order
    body = client.get(_url(project)).content.decode()
    assert reverse("annotate:project-item", args=[project.pk, item.pk]) in body


def test_the_log_filters_by_kind_and_by_who(client, log):
    project, users, _, made = log
    client.force_login(users[Role.OWNER])
    annotator = users[Role.ANNOTATOR]
    by_kind = _ids(client.get(_url(project, kind="label_submitted")))
    expect = [e.pk for e in reversed(made) if e.verb == "label_submitted"]
    assert by_kind == expect[:EVENT_PAGE_SIZE]
    by_user = _ids(client.get(_url(project, user=annotator.pk)))
    assert by_user == expect[:EVENT_PAGE_SIZE]
    system = _ids(client.get(_url(project, user="system")))
    assert (
        system == [e.pk for e in reversed(made) if e.actor_id is None][:EVENT_PAGE_SIZE]
    )
    both = client.get(_url(project, kind="item_created", user=annotator.pk))
    assert both.status_code == 200 and _ids(both) == []
    assert "No events match" in both.content.decode()
    # The next page keeps the filters.
    start = expect[5]
    page = _ids(client.get(_url(project, kind="label_submitted", before=start)))
    assert page == expect[6 : 6 + EVENT_PAGE_SIZE]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"kind": "no_such_kind"}, "valid choice"),
        ({"user": "99999"}, "valid choice"),
        ({"user": "<script>"}, "valid choice"),
        ({"before": "abc"}, "whole number"),
        ({"before": str(2**63)}, "less than or equal"),
        ({"before": "999999"}, "no such event"),
    ],
)
def test_bad_filters_answer_400_and_keep_what_was_typed(client, log, query, reason):
    project, users, _, _ = log
    client.force_login(users[Role.OWNER])
    response = client.get(_url(project, **{"kind": "label_submitted", **query}))
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in body and "<script>" not in body
    assert _ids(response) == []
    if "kind" not in query:  # the filters typed with it are kept
        assert '<option value="label_submitted" selected>' in body


def test_an_event_of_another_project_is_no_position_here(client, log, other_project):
    project, users, _, _ = log
    theirs = event_log(project_id=other_project.pk, verb="item_created")
    client.force_login(users[Role.OWNER])
    response = client.get(_url(project, before=theirs.pk))
    assert response.status_code == 400 and "no such event" in response.content.decode()


def test_the_log_answers_htmx_with_its_fragment(client, log):
    project, users, _, _ = log
    client.force_login(users[Role.OWNER])
    response = client.get(_url(project, user="system"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="event-log">') and "<html" not in body


def test_the_overview_links_to_the_log(client, log):
    project, users, _, _ = log
    client.force_login(users[Role.OWNER])
    body = client.get(reverse("annotate:project-detail", args=[project.pk])).content
    assert reverse("annotate:project-events", args=[project.pk]) in body.decode()
