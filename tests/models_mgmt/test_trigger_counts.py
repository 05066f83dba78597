"""The training triggers' read after every approval is bounded: with no
trigger set it reads the settings and nothing else, and the count of items
approved since the last training stops at the number a trigger needs (a
project never trained counts from its first approval, #15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Item, ItemStatus
from annotate.selectors_loop import items_approved_since_count
from models_mgmt.services import triggers
from models_mgmt.services.pipeline import pipeline_update
from tests.factories import UserFactory, make_items, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def project():
    owner = UserFactory(username="count-owner")
    project = make_project(owner, name="Counts")
    items = make_items(project, 12)
    Item.objects.filter(pk__in=[i.pk for i in items]).update(status=ItemStatus.DONE)
    project.owner = owner
    return project


def _on_items(queries) -> list[str]:
    return [q["sql"] for q in queries if '"annotate_item"' in q["sql"]]


def test_no_trigger_set_reads_no_item(project):
    with CaptureQueriesContext(connection) as queries:
        assert triggers.on_items_approved(project=project) is None
    assert _on_items(queries) == []


def test_every_n_counts_at_most_n(project, monkeypatch):
    fired = []
    monkeypatch.setattr(
        triggers, "trigger_fire", lambda *, project, trigger: fired.append(trigger)
    )
    pipeline_update(
        project=project, actor=project.owner, data={"triggers": {"every_n_approved": 5}}
    )
    with CaptureQueriesContext(connection) as queries:
        triggers.on_items_approved(project=project)
    assert fired == ["every 5 approved"]
    (count,) = _on_items(queries)
    assert "COUNT(" in count.upper() and "LIMIT 5" in count.upper(), count
    pipeline_update(
        project=project,
        actor=project.owner,
        data={"triggers": {"every_n_approved": 13}},
    )
    triggers.on_items_approved(project=project)
    assert fired == ["every 5 approved"]  # 12 approved, 13 needed


def test_the_bounded_count(project):
    assert items_approved_since_count(project=project, since=None, at_most=5) == 5
    assert items_approved_since_count(project=project, since=None, at_most=50) == 12
    assert items_approved_since_count(project=project, since=None, at_most=0) == 0
