"""`manage.py seed_large`: a small size seeds the counts it promises, every page
and list endpoint answers on it, and a second run for the same name is refused."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from rest_framework.test import APIClient

from annotate.models import (
    Annotation,
    AnnotationSource,
    Item,
    ItemStatus,
    Membership,
    Project,
    Task,
    TaskStatus,
)
from models_mgmt.models import Comparison, Evaluation, ModelVersion
from runs.models import Job

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

N = 2000


def seed(n=N, **options) -> tuple[Project, str]:
    out = io.StringIO()
    call_command("seed_large", items=n, stdout=out, **options)
    return Project.objects.get(name=options.get("name") or f"Large ({n} items)"), (
        out.getvalue()
    )


def test_seed_large_writes_a_realistic_project_of_the_size_asked():
    project, out = seed()
    items = Item.objects.filter(project=project)
    assert items.count() == N
    by_status = dict(items.values_list("status").order_by().annotate(n=Count("id")))
    assert by_status[ItemStatus.UNLABELED] > 0.75 * N
    assert 0.1 * N < by_status[ItemStatus.DONE] < 0.15 * N
    assert 0.03 * N < by_status[ItemStatus.REVIEW] < 0.07 * N
    assert by_status[ItemStatus.LABELING] == 5  # one claim per annotator
    # Splits on ground truth only, all three of them, mostly train.
    assert not items.exclude(status=ItemStatus.DONE).filter(split__isnull=False)
    assert not items.filter(status=ItemStatus.DONE, split__isnull=True)
    splits = dict(
        items.filter(split__isnull=False)
        .values_list("split")
        .order_by()
        .annotate(n=Count("id"))
    )
    assert set(splits) == {"train", "val", "test"}
    assert splits["train"] > splits["val"] + splits["test"]
    # Priorities: scored items ranked by the best model, unscored at 0.
    best = ModelVersion.objects.get(project=project, is_best=True)
    scored = items.filter(scored_by=best.pk)
    assert scored.count() > 0.4 * N and scored.filter(priority__gt=0).exists()
    assert items.filter(status=ItemStatus.UNLABELED, scored_by__isnull=True).exists()
    # ...with the scores scoring stores beside the uncertainty: an OOD
    # percentile (about 5 % above the default threshold) and the rare boost,
    # so the drift panel has its real rows to count.
    assert not scored.filter(ood__isnull=True)
    assert not items.filter(scored_by__isnull=True, ood__isnull=False)
    assert 0.02 < scored.filter(ood__gt=0.95).count() / scored.count() < 0.08
    assert all("rare" in c for c in scored.values_list("score_components", flat=True))
    # Shapes: human ones on done and review items, model ones on unlabelled.
    shapes = Annotation.objects.filter(item__project=project)
    assert (
        not shapes.filter(source=AnnotationSource.HUMAN)
        .exclude(item__status__in=[ItemStatus.DONE, ItemStatus.REVIEW])
        .exclude(item__rejected_at__isnull=False)
    )
    assert not items.filter(status=ItemStatus.REVIEW, annotations__isnull=True)
    rejected = items.filter(status=ItemStatus.UNLABELED, rejected_at__isnull=False)
    assert rejected.count() >= 5 and not rejected.filter(annotations__isnull=True)
    assert shapes.filter(source=AnnotationSource.HUMAN).count() >= by_status["done"]
    model = shapes.filter(source=AnnotationSource.MODEL)
    assert model.exists()
    assert set(model.values_list("model_version_id", flat=True)) == {best.pk}
    assert set(model.values_list("item__status", flat=True)) == {"unlabeled"}
    # Claims: one active per item, the queue's invariant, held by their users.
    active = Task.objects.filter(project=project, status=TaskStatus.ACTIVE)
    assert active.count() == 5 + 2
    assert not items.filter(status=ItemStatus.DONE).exclude(
        tasks__status=TaskStatus.APPROVED
    )
    # Models, evaluations, comparisons, runs and one member per role at least.
    versions = ModelVersion.objects.filter(project=project)
    assert versions.count() == 6 and versions.filter(is_base=True).count() == 1
    assert Evaluation.objects.filter(project=project).count() == 4
    assert Comparison.objects.filter(project=project, promoted=False).count() == 1
    assert Job.objects.filter(project=project, status="failed").count() == 1
    roles = set(
        Membership.objects.filter(project=project).values_list("role", flat=True)
    )
    assert roles == {
        "owner",
        "developer",
        "annotation_manager",
        "reviewer",
        "annotator",
    }
    assert f"items: {N}" in out and "seconds:" in out and "MiB" in out


def test_seed_large_refuses_to_run_twice_for_one_name():
    seed(100, name="Twice")
    with pytest.raises(CommandError, match="already exists"):
        seed(100, name="Twice")
    assert Project.objects.filter(name="Twice").count() == 1
    assert Item.objects.filter(project__name="Twice").count() == 100


def test_every_page_and_list_endpoint_answers_on_the_seeded_project():
    project, _ = seed()
    p = project.pk
    users = {
        m.role: m.user
        for m in Membership.objects.filter(project=project).select_related("user")
    }
    html = Client()
    html.force_login(users["owner"])
    for url in (
        "/projects/",
        f"/projects/{p}/",
        f"/projects/{p}/items/",
        f"/projects/{p}/items/?status=done&split=test&ordering=created&page=3",
        f"/projects/{p}/models/",
        f"/projects/{p}/settings/",
        f"/projects/{p}/members/",
        f"/projects/{p}/upload/",
    ):
        assert html.get(url).status_code == 200, url
    for role, url in (("annotator", "label"), ("reviewer", "review")):
        client = Client()
        client.force_login(users[role])
        response = client.get(f"/projects/{p}/{url}/")
        assert response.status_code == 200
        assert response.context["task"] is not None  # the seeded claim
    api = APIClient()
    api.force_authenticate(users["owner"])
    for url in (
        f"/api/v1/projects/{p}/",
        f"/api/v1/projects/{p}/items/?status=unlabeled&ordering=-priority",
        f"/api/v1/projects/{p}/runs/?kind=train",
        f"/api/v1/projects/{p}/models/",
        f"/api/v1/projects/{p}/evaluations/",
        f"/api/v1/projects/{p}/comparisons/",
        f"/api/v1/projects/{p}/tasks/",
        f"/api/v1/projects/{p}/members/",
        f"/api/v1/projects/{p}/pipeline/",
    ):
        assert api.get(url).status_code == 200, url
    items = api.get(f"/api/v1/projects/{p}/items/").json()
    assert items["count"] == N and len(items["results"]) == 50
    # The queue works on it: a manager claims the top-priority item.
    claim = api.post(
        f"/api/v1/projects/{p}/tasks/next/", {"kind": "label"}, format="json"
    )
    assert claim.status_code == 200
    top = Item.objects.filter(
        project=project, status="labeling", tasks__assignee=users["owner"]
    ).get()
    assert top.priority == max(
        Item.objects.filter(project=project, scored_by__isnull=False).values_list(
            "priority", flat=True
        )
    )


def test_seed_large_leaves_postgresql_statistics_of_what_it_wrote():
    """ANALYZE after the load: the planner's row count of the items is the
    table's, not the empty table's it had before (SQLite keeps none)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics: PostgreSQL")
    seed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'annotate_item'")
        (estimated,) = cursor.fetchone()
    assert estimated == Item.objects.count()
