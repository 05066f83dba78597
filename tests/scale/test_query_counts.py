"""The queries of every page and list endpoint do not grow with the project: the
same count on a project of 100 items and on one of 2,000 (both from seed_large;
the large one also has three times the runs, model versions and comparisons),
at most MAX_QUERIES, and none of them a DISTINCT over the items table (its
COUNT walks every matching item)."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotate.models import Membership, Project
from models_mgmt.models import Comparison, ModelStatus, ModelVersion
from runs.models import Job, JobKind, JobStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SMALL, LARGE = 100, 2000
MAX_QUERIES = 16
DISTINCT_ITEMS = re.compile(
    r'(SELECT DISTINCT|COUNT\(DISTINCT)[^()]*"annotate_item"', re.IGNORECASE
)

# (name, role, url, htmx): {p} is the project id.
PAGES = [
    ("project list", "owner", "/projects/", False),
    ("overview", "owner", "/projects/{p}/", False),
    ("overview, annotator", "annotator", "/projects/{p}/", False),
    ("items", "owner", "/projects/{p}/items/", False),
    (
        "items, filtered",
        "owner",
        "/projects/{p}/items/?status=done&split=train&ordering=created",
        False,
    ),
    ("items, page 2", "owner", "/projects/{p}/items/?status=unlabeled&page=2", False),
    ("items grid (htmx)", "owner", "/projects/{p}/items/?ordering=-created", True),
    (
        "items, searched and filtered",
        "annotation_manager",
        "/projects/{p}/items/?q=seed&label={label}&annotator={annotator}",
        False,
    ),
    ("items, out of distribution", "owner", "/projects/{p}/items/?ood=1", False),
    ("item page", "owner", "/projects/{p}/items/{item}/", False),
    ("similar items", "owner", "/projects/{p}/items/similar/?items={item}", False),
    (
        "similar to a bucket",
        "annotation_manager",
        "/projects/{p}/items/similar/?items={item}&items={done}&k=500&mode=union",
        False,
    ),
    ("item page, done", "annotation_manager", "/projects/{p}/items/{done}/", False),
    ("models", "owner", "/projects/{p}/models/", False),
    ("models live (htmx)", "owner", "/projects/{p}/models/", True),
    ("model version", "owner", "/projects/{p}/models/v4/", False),
    ("model version, manager", "annotation_manager", "/projects/{p}/models/v5/", False),
    ("compare versions", "owner", "/projects/{p}/models/compare/?a=3&b=4", False),
    ("version errors", "owner", "/projects/{p}/models/v4/errors/", False),
    (
        "version errors, one bucket, page 2",
        "annotation_manager",
        "/projects/{p}/models/v4/errors/?kind=missed&cls={label}&slice=split:test"
        "&page=2",
        False,
    ),
    ("pipeline", "owner", "/projects/{p}/pipeline/", False),
    ("pipeline live (htmx)", "annotation_manager", "/projects/{p}/pipeline/", True),
    ("label page", "annotator", "/projects/{p}/label/", False),
    ("review page", "reviewer", "/projects/{p}/review/", False),
    ("label errors", "reviewer", "/projects/{p}/review/label-errors/", False),
    ("embedding map", "owner", "/projects/{p}/map/?colour=ood", False),
    ("members", "owner", "/projects/{p}/members/", False),
    (
        "items, model disagreement",
        "owner",
        "/projects/{p}/items/?disagree=labels",
        False,
    ),
    ("events", "owner", "/projects/{p}/events/", False),
    (
        "events, filtered, page 2",
        "annotation_manager",
        "/projects/{p}/events/?kind=review_approved&user={reviewer}&before={event}",
        False,
    ),
    ("events (htmx)", "owner", "/projects/{p}/events/?user=system", True),
    (
        "events, by date",
        "owner",
        "/projects/{p}/events/?since=2020-01-01&until=2099-12-31&before={event}",
        False,
    ),
    ("data", "owner", "/projects/{p}/data/", False),
    ("work", "owner", "/projects/{p}/work/?window=all", False),
    ("work, manager, 7 days", "annotation_manager", "/projects/{p}/work/", False),
    (
        "items, work filters",
        "owner",
        "/projects/{p}/items/?labelled_by={annotator}&verdict=rejected&window=all",
        False,
    ),
    (
        "items, reviewed by",
        "annotation_manager",
        "/projects/{p}/items/?reviewed_by={reviewer}&window=30d&status=done",
        False,
    ),
]
ENDPOINTS = [
    ("projects", "owner", "/api/v1/projects/"),
    ("items", "owner", "/api/v1/projects/{p}/items/"),
    (
        "items, filtered",
        "owner",
        "/api/v1/projects/{p}/items/?status=unlabeled&ordering=-priority&page=2",
    ),
    ("items, annotator", "annotator", "/api/v1/projects/{p}/items/"),
    ("items, reviewer", "reviewer", "/api/v1/projects/{p}/items/?status=done"),
    ("runs", "owner", "/api/v1/projects/{p}/runs/"),
    ("runs, filtered", "owner", "/api/v1/projects/{p}/runs/?kind=export"),
    ("models", "owner", "/api/v1/projects/{p}/models/"),
    ("evaluations", "owner", "/api/v1/projects/{p}/evaluations/"),
    ("comparisons", "owner", "/api/v1/projects/{p}/comparisons/"),
    ("model errors", "owner", "/api/v1/models/{v4}/errors/"),
    ("active claims", "owner", "/api/v1/projects/{p}/tasks/"),
    ("peek", "annotator", "/api/v1/projects/{p}/tasks/peek/?kind=label"),
    ("work", "owner", "/api/v1/projects/{p}/work/?window=all"),
    ("similar items", "owner", "/api/v1/projects/{p}/items/{item}/similar/?k=500"),
    ("label errors", "reviewer", "/api/v1/projects/{p}/label-errors/"),
    (
        "similar to a bucket",
        "owner",
        "/api/v1/projects/{p}/items/similar/?items={item}&items={done}",
    ),
]


def _grow(project: Project) -> None:
    """Twice as many more runs, model versions and comparisons."""
    runs = list(Job.objects.filter(project=project))
    versions = list(ModelVersion.objects.filter(project=project, is_base=False))
    comparisons = list(Comparison.objects.filter(project=project))
    top = max(v.number for v in versions)
    extra = []
    for i, v in enumerate(versions * 2):
        extra.append(
            ModelVersion(
                project=project,
                number=top + 1 + i,
                name=f"v{top + 1 + i}",
                parent=v,
                status=ModelStatus.FAILED,
                error="stopped",
                class_names=v.class_names,
                created_by=v.created_by,
            )
        )
    ModelVersion.objects.bulk_create(extra)
    Comparison.objects.bulk_create(
        Comparison(
            project=project,
            candidate=extra[i],
            incumbent=c.incumbent,
            config=c.config,
            metric=c.metric,
            winner="incumbent",
            test_item_ids=c.test_item_ids,
        )
        for i, c in enumerate(comparisons * 2)
    )
    Job.objects.bulk_create(
        Job(
            project=project,
            kind=JobKind.EXPORT if j.kind == JobKind.EXPORT else JobKind.SCORE,
            status=JobStatus.CANCELLED,
            task=j.task,
            queue=j.queue,
            params=j.params,
            created_by=j.created_by,
        )
        for j in runs * 2
    )


def _flag(project: Project) -> None:
    """A possible-label-error flag on every other done item (the re-review
    queue grows with the project)."""
    from annotate.models import Item, LabelErrorFlag

    done = Item.objects.filter(project=project, status="done").order_by("pk")
    candidate = {"kind": "missing_label", "score": 0.5, "reason": "seeded"}
    candidate.update(label=None, predicted="circle", iou=0.0, confidence=0.5)
    candidate.update(gt_index=None, pred_index=0, gt_bbox=None)
    candidate.update(pred_bbox=[1.0, 1.0, 5.0, 5.0])
    LabelErrorFlag.objects.bulk_create(
        LabelErrorFlag(
            project=project,
            item_id=pk,
            model_version_id=1,
            model_name="v1",
            kind="missing_label",
            score=(n % 97) / 97,
            candidates=[candidate],
        )
        for n, pk in enumerate(done.values_list("pk", flat=True)[::2])
    )


def _embed(project: Project, seed: int) -> None:
    """Seeded embeddings and OOD scores on every item (similar items, drift)."""
    import numpy as np

    from annotate.models import Item

    rng = np.random.default_rng(seed)
    items = list(Item.objects.filter(project=project).only("pk"))
    for item, emb in zip(items, rng.normal(size=(len(items), 16)), strict=True):
        item.embedding = [round(float(v), 5) for v in emb]
        item.score_components = {"ood": round(float(rng.random()), 6)}
    Item.objects.bulk_update(items, ["embedding", "score_components"], batch_size=500)


@pytest.fixture(scope="module")
def projects(django_db_setup, django_db_blocker):
    """{size: (project id, {role: user})}, committed for the module, then removed."""
    seeded = {}
    with django_db_blocker.unblock():
        for size in (SMALL, LARGE):
            name = f"Query counts {size}"
            call_command(
                "seed_large", items=size, name=name, seed=size, stdout=io.StringIO()
            )
            project = Project.objects.get(name=name)
            if size == LARGE:
                _grow(project)
            _embed(project, seed=size)
            _flag(project)
            users = {
                m.role: m.user
                for m in Membership.objects.filter(project=project)
                .select_related("user")
                .order_by("user__username")
            }
            seeded[size] = (project.pk, users)
        yield seeded
        ids = [pk for pk, _ in seeded.values()]
        user_ids = list(
            Membership.objects.filter(project_id__in=ids).values_list(
                "user_id", flat=True
            )
        )
        Project.objects.filter(pk__in=ids).delete()
        get_user_model().objects.filter(pk__in=user_ids).delete()


def _queries(client, url: str, **headers) -> list[str]:
    client.get(url, **headers)  # once first: per-process caches fill here
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries]


def _slots(pk: int, users: dict) -> dict:
    """What a URL names besides the project: an item in review (it has tasks and
    events), a done item, a label, an annotator, a reviewer and an event in the
    middle of the log."""
    from annotate.models import Event, Item

    project = Project.objects.get(pk=pk)
    items = Item.objects.filter(project=project).order_by("pk")
    return {
        "p": pk,
        "item": items.filter(status="review").values_list("pk", flat=True).first(),
        "done": items.filter(status="done").values_list("pk", flat=True).first(),
        "label": project.labels[0],
        "annotator": users["annotator"].pk,
        "reviewer": users["reviewer"].pk,
        "event": _middle_event(Event.objects.filter(project=project)),
        "v4": ModelVersion.objects.get(project=project, number=4).pk,
    }


def _middle_event(events) -> int:
    ids = list(events.order_by("-created_at", "-id").values_list("pk", flat=True))
    return ids[len(ids) // 2]


def _compare(projects, role: str, url: str, make_client, **headers):
    counts = {}
    for size, (pk, users) in projects.items():
        client = make_client()
        client.force_login(users[role])
        sql = _queries(client, url.format(**_slots(pk, users)), **headers)
        counts[size] = len(sql)
        distinct = [q for q in sql if DISTINCT_ITEMS.search(q)]
        assert not distinct, f"DISTINCT over the items: {distinct[0][:300]}"
    assert counts[SMALL] == counts[LARGE], f"queries grow with the project: {counts}"
    assert counts[LARGE] <= MAX_QUERIES, counts


@pytest.mark.parametrize(
    ("name", "role", "url", "htmx"), PAGES, ids=[p[0] for p in PAGES]
)
def test_page_queries_do_not_grow_with_the_project(projects, name, role, url, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    _compare(projects, role, url, Client, **headers)


@pytest.mark.parametrize(
    ("name", "role", "url"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_list_endpoint_queries_do_not_grow_with_the_project(projects, name, role, url):
    _compare(projects, role, url, APIClient)


def test_the_distinct_check_catches_a_distinct_over_the_items():
    """The pattern above is not vacuous: the join the items API used before."""
    from annotate.models import Item

    sql = str(Item.objects.filter(tasks__assignee_id=1).distinct().query)
    assert DISTINCT_ITEMS.search(sql)
    count_sql = "SELECT COUNT(*) FROM (" + sql + ") subquery"
    assert DISTINCT_ITEMS.search(count_sql)
