"""The project overview's reads (#15): the pipeline settings read once (the
drift panel takes the view's), and the active claims counted only when the
list of 50 is full (fewer shown are all of them): two queries fewer than
before on the dashboard, the same page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alweb.roles import Role
from annotate.models import Item, Task, TaskKind, TaskStatus
from annotate.views import CLAIMS_SHOWN
from tests.annotate.test_mining import bulk_items

pytestmark = pytest.mark.django_db


def _claims(project, user, n: int) -> None:
    items = bulk_items(project, [[1.0]] * n, tag="claim")
    Item.objects.filter(pk__in=[i.pk for i in items]).update(status="labeling")
    until = timezone.now() + timedelta(minutes=30)
    Task.objects.bulk_create(
        Task(
            item=item,
            project=project,
            kind=TaskKind.LABEL,
            assignee=user,
            status=TaskStatus.ACTIVE,
            lease_expires_at=until,
        )
        for item in items
    )


def _overview(project, user):
    client = Client()
    client.force_login(user)
    client.get(f"/projects/{project.pk}/")  # per-process caches fill here
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries]


def _on(table: str, sql: list[str]) -> list[str]:
    return [q for q in sql if f'FROM "{table}"' in q]


def test_the_overview_reads_the_pipeline_once_and_counts_no_short_claim_list(
    project_roles,
):
    project, users, _ = project_roles
    _claims(project, users[Role.ANNOTATOR], 3)
    page, sql = _overview(project, users[Role.ANNOTATION_MANAGER])
    assert page.count('data-testid="claim-') == 3
    assert "Showing" not in page
    assert len(_on("annotate_pipeline", sql)) == 1, _on("annotate_pipeline", sql)
    counts = [q for q in _on("annotate_task", sql) if "COUNT(" in q.upper()]
    assert counts == [], counts


def test_a_full_claim_list_is_counted(project_roles):
    project, users, _ = project_roles
    _claims(project, users[Role.ANNOTATOR], CLAIMS_SHOWN + 1)
    page, sql = _overview(project, users[Role.ANNOTATION_MANAGER])
    assert page.count('data-testid="claim-') == CLAIMS_SHOWN
    assert f"Showing {CLAIMS_SHOWN} of {CLAIMS_SHOWN + 1}" in page
    counts = [q for q in _on("annotate_task", sql) if "COUNT(" in q.upper()]
    assert len(counts) == 1, counts


def test_the_status_counts_are_index_range_counts_not_a_grouping(project_roles):
    """One COUNT(*) per status (each a range of item_queue_idx alone), not a
    GROUP BY status over every item: ~5 ms of CPU at 100k items on SQLite
    where the grouping took ~8."""
    project, users, _ = project_roles
    bulk_items(project, [[1.0]] * 3, tag="status")
    page, sql = _overview(project, users[Role.ANNOTATION_MANAGER])
    grouped = [q for q in _on("annotate_item", sql) if '"status"' in q.split("FROM")[0]]
    assert grouped == [], grouped
    assert "<dt>unlabeled</dt><dd>3</dd>" in page.replace("\n", "")
    assert "<dt>skipped</dt><dd>0</dd>" in page.replace("\n", "")
