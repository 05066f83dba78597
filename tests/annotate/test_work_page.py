"""The Work page and its API: every figure against values computed by hand on
a small seeded project, the links behind the figures, and bad windows."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alweb.roles import Role
from annotate.models import Annotation, Item, ItemStatus, Project, Task
from annotate.selectors_work import work_summary
from annotate.services.labeling import (
    items_make_ground_truth,
    review_approve,
    review_reject,
    task_submit,
)
from tests.api.helpers import client_for
from tests.factories import make_items

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _task(item, user, kind):
    Item.objects.filter(pk=item.pk).update(
        status=ItemStatus.LABELING if kind == "label" else ItemStatus.REVIEW
    )
    return Task.objects.create(
        item=item,
        project=item.project,
        kind=kind,
        assignee=user,
        lease_expires_at=timezone.now() + HOUR,
    )


def _times(task, claimed, took):
    Task.objects.filter(pk=task.pk).update(
        created_at=claimed, finished_at=claimed + took
    )


def _box(project, x, ident=None):
    shape = {"kind": "box", "label": project.labels[0], "bbox": [x, 10, 20, 20]}
    return {**shape, "id": ident} if ident else shape


@pytest.fixture
def seeded(project_roles):
    project, users, _ = project_roles
    return project, users, seed_work(project, users)


def seed_work(project, users) -> dict:
    """Items a..i (see the asserts for what each one went through)."""
    ann, rev = users[Role.ANNOTATOR], users[Role.REVIEWER]
    now = timezone.now()
    a, b, c, e, f, g, h, i = make_items(project, 8)
    # a carries two model pre-annotations; the annotator keeps one unchanged.
    models = [
        Annotation.objects.create(
            item=a,
            kind="box",
            label=project.labels[0],
            geometry={"bbox": [x, 10, 20, 20]},
            source="model",
            model_version_id=1,
            confidence=0.9,
        )
        for x in (10, 50)
    ]
    t = _task(a, ann, "label")
    task_submit(task=t, shapes=[_box(project, 10, models[0].pk), _box(project, 40)])
    _times(t, now - 3 * HOUR, 10 * MIN)
    t = _task(b, ann, "label")
    task_submit(task=t, shapes=[_box(project, 5)])
    _times(t, now - 3 * HOUR, 5 * MIN)
    t = _task(c, ann, "label")  # a tab left open for three hours: 30 min count
    task_submit(task=t, shapes=[_box(project, 5)])
    _times(t, now - 5 * HOUR, 3 * HOUR)
    t = _task(e, ann, "label")  # ten days ago: outside 7 d, inside 30 d
    task_submit(task=t, shapes=[_box(project, 5), _box(project, 30)])
    _times(t, now - 10 * DAY, 20 * MIN)
    r = _task(a, rev, "review")
    review_approve(task=r)
    _times(r, now - HOUR, 2 * MIN)
    r = _task(b, rev, "review")
    review_reject(task=r, comment="too loose")
    _times(r, now - HOUR, 4 * MIN)
    # Upload to ground truth: a 4 h, g 2 h, h 10 h, i 1 h (approved 20 days ago).
    items_make_ground_truth(project=project, item_ids=[g.pk, h.pk, i.pk])
    for item, uploaded, took in (
        (a, now - 5 * HOUR, 4 * HOUR),
        (g, now - 3 * HOUR, 2 * HOUR),
        (h, now - 11 * HOUR, 10 * HOUR),
        (i, now - 21 * DAY, HOUR),
    ):
        Item.objects.filter(pk=item.pk).update(
            created_at=uploaded, approved_at=uploaded + took
        )
    Project.objects.filter(pk=project.pk).update(goal=8)
    project.refresh_from_db()
    return dict(a=a, b=b, c=c, e=e, f=f, g=g, h=h, i=i)


def test_figures_over_seven_days_match_the_hand_count(seeded):
    project, users, it = seeded
    work = work_summary(project=project, window="7d")
    assert work.statuses == {
        "unlabeled": 2,  # b (rejected), f
        "labeling": 0,
        "review": 2,  # c, e
        "done": 4,  # a, g, h, i
        "skipped": 0,
    }
    assert sum(work.splits.values()) == 4
    assert (work.ground_truth, work.goal, work.goal_percent) == (4, 8, 50.0)
    assert work.queue == {"label": 2, "labelling": 0, "review": 2, "reviewing": 0}
    (ann,) = work.annotators
    assert ann.username == users[Role.ANNOTATOR].username
    assert (ann.items, ann.shapes) == (3, 4)
    assert ann.active == 45 * MIN  # 10 + 5 + 30 (capped from 3 h)
    assert ann.items_per_hour == pytest.approx(4.0)
    assert ann.shapes_per_hour == pytest.approx(4 / 0.75)
    assert (ann.reviewed, ann.rejected, ann.rejection_rate) == (2, 1, 0.5)
    assert (ann.model_shapes, ann.model_kept, ann.model_changed) == (2, 1, 1)
    (rev,) = work.reviewers
    assert rev.username == users[Role.REVIEWER].username
    assert (rev.items, rev.rejected, rev.active) == (2, 1, 6 * MIN)
    assert rev.items_per_hour == pytest.approx(20.0)
    # a 4 h, g 2 h, h 10 h: nearest rank median (2nd) and p90 (3rd).
    assert work.to_ground_truth == {"count": 3, "median": 4 * HOUR, "p90": 10 * HOUR}


def test_longer_windows_take_in_older_work(seeded):
    project, _, _ = seeded
    work = work_summary(project=project, window="30d")
    (ann,) = work.annotators
    assert (ann.items, ann.shapes, ann.active) == (4, 6, 65 * MIN)
    # i 1 h, g 2 h, a 4 h, h 10 h: median rank 2, p90 rank 4.
    assert work.to_ground_truth == {"count": 4, "median": 2 * HOUR, "p90": 10 * HOUR}
    assert work_summary(project=project, window="all").annotators[0].items == 4
    day = work_summary(project=project, window="24h")
    assert day.annotators[0].items == 3 and day.to_ground_truth["count"] == 3


def test_work_page_shows_the_figures_and_bars(client, seeded):
    project, users, _ = seeded
    client.force_login(users[Role.ANNOTATION_MANAGER])
    response = client.get(reverse("annotate:project-work", args=[project.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for testid in ("goal-bar", "status-bar", "split-bar", "status-seg-done"):
        assert f'data-testid="{testid}"' in body, testid
    assert 'width="300.0"' in body  # the goal bar: 4 of 8 on 600 units
    assert "45 min 00 s" in body and "4.0" in body and "1 of 2 (50%)" in body
    assert "1 of 2 (50%), 1 changed or removed" in body
    assert "4 h 00 min" in body and "10 h 00 min" in body


def _listed(client, project, query) -> set[int]:
    url = reverse("annotate:project-items", args=[project.pk]) + "?" + query
    response = client.get(url)
    assert response.status_code == 200
    return {i.pk for i in response.context["page"]}


def test_every_figure_links_to_the_items_behind_it(client, seeded):
    project, users, it = seeded
    ann, rev = users[Role.ANNOTATOR].pk, users[Role.REVIEWER].pk
    client.force_login(users[Role.OWNER])
    body = client.get(
        reverse("annotate:project-work", args=[project.pk]) + "?window=7d"
    ).content.decode()
    figures = re.findall(r'<(\w+)[^>]*data-testid="(fig-[\w-]+)"', body)
    assert len(figures) >= 20
    assert {tag for tag, _ in figures} == {"a"}, "every figure is a link"
    assert f"?labelled_by={ann}&amp;window=7d" in body
    assert f"?reviewed_by={rev}&amp;verdict=rejected&amp;window=7d" in body
    ids = {k: v.pk for k, v in it.items()}
    expect = {
        f"labelled_by={ann}&window=7d": {"a", "b", "c"},
        f"labelled_by={ann}&window=all": {"a", "b", "c", "e"},
        f"labelled_by={ann}&verdict=rejected&window=7d": {"b"},
        f"reviewed_by={rev}&window=7d": {"a", "b"},
        f"reviewed_by={rev}&verdict=rejected&window=7d": {"b"},
        "status=done&window=7d": {"a", "g", "h"},
        "status=done&window=30d": {"a", "g", "h", "i"},
        "status=unlabeled": {"b", "f"},
        "status=review": {"c", "e"},
    }
    for query, names in expect.items():
        assert _listed(client, project, query) == {ids[n] for n in names}, query


def test_bad_window_is_400_with_the_reason(client, seeded):
    project, users, _ = seeded
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-work", args=[project.pk])
    response = client.get(url + "?window=abc")
    assert response.status_code == 400
    body = response.content.decode()
    assert "window must be one of 24h, 7d, 30d, all" in body
    assert "“abc” is not a window" in body
    r = client_for(users[Role.OWNER]).get(
        f"/api/v1/projects/{project.pk}/work/?window=abc"
    )
    assert r.status_code == 400 and "window" in r.json()
    # In the item browser: the reason on the page, the filters dropped.
    items = reverse("annotate:project-items", args=[project.pk])
    response = client.get(items + "?window=abc&labelled_by=x")
    assert "window must be one of" in response.content.decode()
    response = client.get(items + "?labelled_by=abc")
    assert "labelled_by must be a member" in response.content.decode()


def test_work_api_gives_the_same_figures(seeded):
    project, users, _ = seeded
    r = client_for(users[Role.DEVELOPER]).get(f"/api/v1/projects/{project.pk}/work/")
    assert r.status_code == 200
    data = r.json()
    assert (data["window"], data["ground_truth"], data["goal"]) == ("7d", 4, 8)
    assert data["goal_percent"] == 50.0
    (ann,) = data["annotators"]
    assert (ann["items"], ann["shapes"], ann["active_seconds"]) == (3, 4, 2700.0)
    assert (ann["model_shapes"], ann["model_kept"], ann["rejection_rate"]) == (
        2,
        1,
        0.5,
    )
    assert data["to_ground_truth"] == {
        "count": 3,
        "median_seconds": 14400.0,
        "p90_seconds": 36000.0,
    }


def test_submit_stores_the_shape_and_model_counts(seeded):
    project, _, it = seeded
    task = Task.objects.get(item=it["a"], kind="label")
    assert (task.shape_count, task.model_shapes, task.model_kept) == (2, 2, 1)
    task = Task.objects.get(item=it["b"], kind="label")
    assert (task.shape_count, task.model_shapes, task.model_kept) == (1, 0, 0)


def test_empty_project_has_no_rates(project_roles):
    project, _, _ = project_roles
    work = work_summary(project=project, window="all")
    assert work.annotators == [] and work.reviewers == []
    assert work.goal_percent is None
    assert work.to_ground_truth == {"count": 0, "median": None, "p90": None}
