"""The drift panel's read (`drift_weeks`) at scale and at its edges: one
query over plain `created_at` bounds (no per-row date
function, which SQLite runs in Python: ~1 s of CPU at 100k items, #15), and
week boundaries at midnight of the current time zone, as the per-day grouping
had them."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotate.models import Item
from annotate.selectors_mining import drift_weeks
from tests.annotate.test_mining import bulk_items

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)  # a Tuesday: the window's weeks start Mon 2026-09-14


def _at(project, when: datetime, ood: float | None = None, n: int = 1):
    items = bulk_items(project, [[1.0]] * n, tag=f"d{when:%m%d%H%M%S}-{ood}-")
    components = {} if ood is None else {"ood": ood}
    Item.objects.filter(pk__in=[i.pk for i in items]).update(
        created_at=when, score_components=components
    )


def _rows(project, **kwargs):
    weeks = drift_weeks(project=project, today=TODAY, **kwargs)
    return [(w.start, w.uploaded, w.scored, w.flagged) for w in weeks]


def test_the_drift_read_is_one_range_of_the_created_index_per_week(project_roles):
    """One query on the items: per week, its created_at range of
    item_created_ood_idx with three COUNTs (uploads, scored, flagged) from the
    OOD score's own column (Item.ood), joined by UNION ALL: no item's JSON
    read, no sort or grouping of the window's rows, no per-row date function.
    Before (#15) it read every scored item's score_components and grouped
    them by a CASE of the bounds: at 100k items, half of them scored, 85 ms
    of CPU on SQLite, now 18 (bench/dashboard_100k.py)."""
    project, _, _ = project_roles
    for day in (14, 15, 16, 23):
        _at(project, datetime(2026, 11, day, 12, tzinfo=UTC), 0.99)
    _at(project, datetime(2026, 11, 24, 12, tzinfo=UTC), None)  # not scored
    with CaptureQueriesContext(connection) as queries:
        rows = _rows(project)
    assert rows == [
        (date(2026, 11, 9), 2, 2, 2),  # Saturday and Sunday
        (date(2026, 11, 16), 1, 1, 1),
        (date(2026, 11, 23), 2, 1, 1),
    ]
    on_items = [q["sql"] for q in queries if '"annotate_item"' in q["sql"]]
    assert len(on_items) == 1, on_items
    (sql,) = on_items
    assert sql.upper().count("UNION ALL") == 11, sql
    assert "score_components" not in sql, sql
    assert sql.count('COUNT("annotate_item"."ood")') == 12, sql
    # Django's SQLite date helpers (django_datetime_cast_date, *_trunc, ...) are
    # Python functions called once per row; PostgreSQL's casts are SQL.
    assert "django_" not in sql.lower(), sql
    if connection.vendor == "sqlite":  # the captured SQL has its values quoted
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = [row[-1] for row in cursor.fetchall()]
        searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
        assert len(searches) == 12, plan
        assert all("USING INDEX item_created_ood_idx" in s for s in searches), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


def test_week_edges_are_monday_midnight_and_the_window_is_bounded(project_roles):
    project, _, _ = project_roles
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    first = datetime(2026, 9, 14, tzinfo=UTC)  # Monday 11 weeks before 11-23
    tick = timedelta(microseconds=1)
    _at(project, first - tick, 0.99)  # before the window: left out
    _at(project, first, 0.1, n=2)
    _at(project, monday - tick, 0.99)  # Sunday night: the week of 11-16
    _at(project, monday, None)  # Monday midnight: the week of 11-23
    _at(project, monday + timedelta(days=7, hours=23), 0.97)  # today's week
    assert _rows(project) == [
        (date(2026, 9, 14), 2, 2, 0),
        (date(2026, 11, 16), 1, 1, 1),
        (date(2026, 11, 23), 1, 0, 0),
        (date(2026, 11, 30), 1, 1, 1),
    ]
    assert _rows(project, weeks=2) == [
        (date(2026, 11, 23), 1, 0, 0),
        (date(2026, 11, 30), 1, 1, 1),
    ]


def test_weeks_start_at_midnight_in_the_current_time_zone(project_roles):
    project, _, _ = project_roles
    # 03:00 UTC on Monday 11-23 is 22:00 on Sunday 11-22 in New York.
    _at(project, datetime(2026, 11, 23, 3, tzinfo=UTC), 0.99)
    assert _rows(project) == [(date(2026, 11, 23), 1, 1, 1)]
    with timezone.override("America/New_York"):
        assert _rows(project) == [(date(2026, 11, 16), 1, 1, 1)]
