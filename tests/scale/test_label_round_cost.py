"""What one label round costs the database (#15): claim-next, a versioned draft
save, submit with a client id, the review claim and approve, through the API as
the drill sends them (bench/drill_annotators.py), on a project of 200 and one
of 3,000 items (seed_large).

- Every request sends the same number of queries on both projects, and no more
  than ROUND_QUERIES says (tightened as queries were cut: fewer is a pass,
  more a failure; lower the row when you cut one). Counted inside the test's
  transaction, so each atomic block is a SAVEPOINT and a RELEASE (in
  production one BEGIN); the seeded users' held tasks are resumed by the
  warm-up round, so the measured claims are fresh ones.
- On SQLite, the work of the claims, the draft and the submit (the virtual
  machine instructions SQLite runs for them, counted with a progress handler)
  does not grow with the project: before the queue indexes of migration 0017,
  a label claim walked every unlabeled item (the items assigned to the user,
  read through the project's queue index) and every task of the project (the
  user's active task), and a review claim sorted every item waiting for
  review: 15 times the items, 4.6 and 6.9 times the work.
  Approve is left out of that check: it counts the ground truth per split of
  the approved item's labels (the stratified split), which does grow.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotate.models import Membership, Project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SMALL, LARGE = 200, 3000
# Before the cuts of #15 (role read with the project or task, one transaction
# for the lease expiry and the active task, no re-reads of rows just read or
# written): 17, 7, 22, 15 and 19. Then 14, 5, 18, 13, 16 (measured 12, 5, 18,
# 11, 16); the submit lost its savepoint (two statements) and its separate
# UPDATE of the item's status (annotations_replace's item_updates); the draft,
# the submit and the approval no longer read again the task the API's request
# has just read (`fresh`). The claims then read their user's active task and
# the project's stale leases in one query (11 and 10). Approve reads the
# item's labels (one more query, an index range of its shapes) to count the
# ground truth of those labels only: 21,860 -> 16,060 SQLite steps at 3,000
# items, and the sorts of the grouped count of every label are gone.
ROUND_QUERIES = {
    "claim-next": 11,
    "draft": 4,
    "submit": 14,
    "review claim": 10,
    "approve": 16,
}
CONSTANT_WORK = ("claim-next", "draft", "submit", "review claim")
BOXES = [
    {"kind": "box", "label": "circle", "bbox": [10, 10, 40, 30]},
    {"kind": "box", "label": "triangle", "bbox": [100, 80, 50, 50]},
]


@pytest.fixture(scope="module")
def projects(django_db_setup, django_db_blocker):
    """{size: (project id, annotator, reviewer)}, committed for the module."""
    seeded = {}
    with django_db_blocker.unblock():
        for size in (SMALL, LARGE):
            name = f"Round cost {size}"
            call_command(
                "seed_large", items=size, name=name, seed=size, stdout=io.StringIO()
            )
            project = Project.objects.get(name=name)
            users = {
                m.role: m.user
                for m in Membership.objects.filter(project=project).select_related(
                    "user"
                )
            }
            seeded[size] = (project.pk, users["annotator"], users["reviewer"])
        yield seeded
        Project.objects.filter(pk__in=[pk for pk, _, _ in seeded.values()]).delete()


class Steps:
    """SQLite's virtual machine instructions, counted per 10."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 10
        return 0


def _round(pk, annotator, reviewer, n: int) -> dict[str, tuple[int, int]]:
    """{endpoint: (queries, VM steps)} of one round; steps 0 off SQLite."""
    ann, rev = APIClient(), APIClient()
    ann.force_authenticate(annotator)
    rev.force_authenticate(reviewer)
    out = {}

    def call(what, client, method, path, body):
        connection.ensure_connection()
        steps = Steps()
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            connection.connection.set_progress_handler(steps, 10)
        try:
            with CaptureQueriesContext(connection) as captured:
                response = getattr(client, method)(path, body, format="json")
        finally:
            if sqlite:
                connection.connection.set_progress_handler(None, 10)
        assert response.status_code == 200, (what, response.status_code)
        out[what] = (len(captured.captured_queries), steps.n)
        return response.json()

    task = call(
        "claim-next",
        ann,
        "post",
        f"/api/v1/projects/{pk}/tasks/next/",
        {"kind": "label"},
    )
    saved = call(
        "draft",
        ann,
        "put",
        f"/api/v1/tasks/{task['id']}/draft/",
        {"annotations": BOXES[:1], "version": task["version"]},
    )
    call(
        "submit",
        ann,
        "post",
        f"/api/v1/tasks/{task['id']}/submit/",
        {"annotations": BOXES, "client_id": f"round-{n}", "version": saved["version"]},
    )
    review = call(
        "review claim",
        rev,
        "post",
        f"/api/v1/projects/{pk}/tasks/next/",
        {"kind": "review"},
    )
    call("approve", rev, "post", f"/api/v1/tasks/{review['id']}/approve/", {})
    return out


def test_a_label_round_costs_the_same_on_a_larger_project(projects):
    cost = {}
    for size, (pk, annotator, reviewer) in projects.items():
        _round(pk, annotator, reviewer, 0)  # warm-up: per-process caches
        cost[size] = _round(pk, annotator, reviewer, 1)
    for what, limit in ROUND_QUERIES.items():
        small, large = cost[SMALL][what][0], cost[LARGE][what][0]
        assert small == large, f"{what}: queries grow with the project: {cost}"
        assert large <= limit, f"{what}: {large} queries, at most {limit}"
    if connection.vendor != "sqlite":
        return
    for what in CONSTANT_WORK:
        small, large = cost[SMALL][what][1], cost[LARGE][what][1]
        assert large <= 2 * small, (
            f"{what}: SQLite's work grows with the project: {small} -> {large} steps"
        )
