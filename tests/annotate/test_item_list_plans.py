"""The items list's filters and orderings read an index in the page's order
(#15): at 100k items on SQLite a split filter walked every item in priority
order (59 ms of CPU a page), and the file-name search's COUNT read every row
(114 ms). The
plans are SQLite's (EXPLAIN QUERY PLAN); the results are checked on every
engine."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Item, ItemStatus
from annotate.selectors_items import PageRows, item_list, item_list_pages
from tests.annotate.test_mining import bulk_items

pytestmark = pytest.mark.django_db


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def _count_plan(qs) -> str:
    """The plan of the COUNT the paginator runs."""
    with CaptureQueriesContext(connection) as queries:
        qs.count()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + queries[-1]["sql"])
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def items(project_roles):
    project, _, _ = project_roles
    rows = bulk_items(project, [[1.0]] * 12, tag="plan")
    for n, item in enumerate(rows):
        item.priority = (n % 3) / 3
        if n % 2:
            item.status, item.split = ItemStatus.DONE, ["train", "val"][n % 4 // 2]
    Item.objects.bulk_update(rows, ["priority", "status", "split"])
    return project, rows


def test_a_split_filter_keeps_the_same_items_in_the_same_order(items):
    project, rows = items
    got = list(item_list(project=project, split="train").values_list("pk", flat=True))
    want = sorted(
        (r for r in rows if r.split == "train"), key=lambda r: (-r.priority, r.pk)
    )
    assert got == [r.pk for r in want]
    assert list(item_list(project=project, split="val", status="unlabeled")) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plans")
def test_the_page_queries_walk_an_index_in_order(items):
    project, _ = items
    by_split = item_list(project=project, split="train")
    assert "item_queue_idx" in _plan(by_split[:50])
    assert "COVERING INDEX item_split_status_idx" in _count_plan(by_split)
    searched = item_list(project=project, name="plan")
    assert "COVERING INDEX item_name_idx" in _count_plan(searched)


def test_ascending_priority_pages_are_the_plain_slices(items):
    """PageRows cuts each page from the ordered ids: the same rows in the same
    order as slicing the queryset, ties (priority n % 3) included, in the
    same number of queries."""
    project, rows = items
    qs = item_list(project=project, ordering="priority")
    pages = item_list_pages(qs, ordering="priority")
    assert isinstance(pages, PageRows)
    assert pages.count() == len(rows)
    for start in range(0, 14, 5):
        with CaptureQueriesContext(connection) as queries:
            got = [i.pk for i in pages[start : start + 5]]
        assert len(queries) == 1
        assert got == [i.pk for i in qs[start : start + 5]], start
    status = item_list(project=project, ordering="priority", status="unlabeled")
    assert [i.pk for i in item_list_pages(status, ordering="priority")[0:4]] == [
        i.pk for i in status[0:4]
    ]
    plain = item_list(project=project)
    assert item_list_pages(plain, ordering="-priority") is plain


def test_the_api_pages_by_ascending_priority_as_before(items, project_roles):
    from rest_framework.test import APIClient

    from alweb.roles import Role

    project, _ = items
    _, users, _ = project_roles
    client = APIClient()
    client.force_authenticate(users[Role.ANNOTATION_MANAGER])
    url = f"/api/v1/projects/{project.pk}/items/?ordering=priority"
    body = client.get(url).json()
    want = item_list(project=project, ordering="priority")
    assert body["count"] == want.count()
    assert [r["id"] for r in body["results"]] == [i.pk for i in want[:50]]
