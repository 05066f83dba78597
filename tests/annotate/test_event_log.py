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


def _on_days(made, days):
    """Move the events onto the given days (noon, the site's time zone), in
    turn; returns {day: the ids on it, newest first}."""
    from datetime import datetime, time

    from django.utils import timezone

    on: dict = {d: [] for d in days}
    for n, e in enumerate(made):
        day = days[n % len(days)]
        at = timezone.make_aware(datetime.combine(day, time(12, 0, n % 60)))
        Event.objects.filter(pk=e.pk).update(created_at=at)
        on[day].append(e.pk)
    return {d: _newest(ids) for d, ids in on.items()}


def _newest(ids) -> list[int]:
    """The events in the log's order: newest first, then the higher id."""
    rows = Event.objects.filter(pk__in=ids).values_list("created_at", "pk")
    return [pk for _, pk in sorted(rows, reverse=True)]


def test_the_log_filters_by_date_from_and_to(client, log):
    from datetime import date

    project, users, _, made = log
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 5)]
    on = _on_days(made, days)
    client.force_login(users[Role.OWNER])
    one = _ids(client.get(_url(project, since="2026-03-02", until="2026-03-02")))
    assert one == on[days[1]][:EVENT_PAGE_SIZE] and one
    later = client.get(_url(project, since="2026-03-02"))
    expect = _newest(on[days[1]] + on[days[2]])
    assert _ids(later) == expect[:EVENT_PAGE_SIZE]
    body = later.content.decode()
    assert 'value="2026-03-02"' in body  # the From field keeps its date
    older = re.search(r'href="\?([^"]+)" data-testid="older-page"', body)
    assert "since=2026-03-02" in older.group(1)  # the next page keeps it
    until = _ids(client.get(_url(project, until="2026-03-01")))
    assert until == on[days[0]][:EVENT_PAGE_SIZE]
    none = client.get(_url(project, since="2026-03-03", until="2026-03-04"))
    assert none.status_code == 200 and "No events match" in none.content.decode()
    both = _ids(client.get(_url(project, kind="label_submitted", until="2026-03-02")))
    kinds = set(Event.objects.filter(pk__in=both).values_list("verb", flat=True))
    assert both and kinds == {"label_submitted"}
    assert set(both) <= set(on[days[0]] + on[days[1]])


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"since": "2026-13-01"}, "Enter a valid date"),
        ({"until": "yesterday"}, "Enter a valid date"),
        ({"since": "0001-01-01"}, "must be a date from 1970 to 9998"),
        ({"until": "9999-12-31"}, "must be a date from 1970 to 9998"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "must not be before"),
        ({"since": "<script>"}, "Enter a valid date"),
    ],
)
def test_bad_dates_answer_400_with_the_message_and_keep_what_was_typed(
    client, log, query, reason
):
    project, users, _, _ = log
    client.force_login(users[Role.OWNER])
    response = client.get(_url(project, kind="label_submitted", **query))
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in body and "<script>" not in body and _ids(response) == []
    for value in query.values():
        if value != "<script>":
            assert f'value="{value}"' in body
    assert '<option value="label_submitted" selected>' in body


def test_events_link_the_model_versions_they_name(client, log, other_project):
    from tests.models_mgmt.test_version_pages import _version

    project, users, _, _ = log
    v1 = _version(project, 1)
    v2 = _version(project, 2, parent=v1)
    e = event_log(
        project_id=project.pk,
        verb="model_promoted",
        model=v2.pk,
        previous=v1.pk,
        reason="comparison",
    )
    client.force_login(users[Role.OWNER])
    body = client.get(_url(project)).content.decode()
    row = body.split(f'data-testid="event-{e.pk}"')[1].split("</tr>")[0]
    link = reverse("models_mgmt:version-by-id", args=[project.pk, v2.pk])
    assert f'href="{link}" data-testid="event-model-{e.pk}"' in row
    previous = reverse("models_mgmt:version-by-id", args=[project.pk, v1.pk])
    assert f'previous: <a href="{previous}"' in row
    assert f">{v2.pk}<" not in row  # never the database id as text
    assert "reason: comparison" in row
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("models_mgmt:version", args=[project.pk, 2])
    # Who and what filter the log.
    assert 'href="?user=system"' in row and 'href="?kind=model_promoted"' in row
    # A version of another project is not reached through this one.
    theirs = _version(other_project, 1)
    assert (
        client.get(
            reverse("models_mgmt:version-by-id", args=[project.pk, theirs.pk])
        ).status_code
        == 404
    )
