"""The learning curve of the random picks: every evaluation counts its hits,
misses and false detections per way its test items were chosen (from each
item's priority reason), and the compare page draws a promoted version's F1 on
the random picks beside the strategy's picks, or says why it cannot."""

import pytest
from django.urls import reverse

from annotate.explain import pick_group
from annotate.models import Item, Pipeline
from models_mgmt.models import Evaluation
from models_mgmt.services.training import training_start
from tests.factories import UserFactory, make_project
from tests.models_mgmt.test_error_buckets import scripted  # noqa: F401
from tests.models_mgmt.test_version_pages import LABELS, _version

CONTROL = {"strategy": "hybrid", "in_batch": True, "control": True, "rank": 3}
RANKED = {"strategy": "hybrid", "in_batch": True, "control": False, "rank": 0}


def test_pick_group_reads_how_an_item_was_chosen():
    assert pick_group(CONTROL) == "random"
    assert pick_group({**RANKED, "warmup": True}) == "random"
    assert pick_group({"strategy": "random", "rank": 4}) == "random"
    assert pick_group(RANKED) == "strategy"
    assert pick_group({"strategy": "entropy", "rank": 40, "in_batch": False}) == (
        "strategy"
    )
    assert pick_group({"pin": "pinned"}) == "other"
    assert pick_group({**RANKED, "similar_to": [3]}) == "other"
    assert pick_group({}) == "other" and pick_group(None) == "other"


def _svg(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"')[1].split("</svg>")[0]


def test_an_evaluation_counts_its_errors_per_pick_and_the_page_draws_both(
    client,
    scripted,  # noqa: F811
):
    project, test, shapes_of = scripted
    random_ids = [i.pk for i in test[::2]]
    strategy_ids = [i.pk for i in test[1::2]]
    Item.objects.filter(pk__in=random_ids).update(priority_reason=CONTROL)
    Item.objects.filter(pk__in=strategy_ids).update(priority_reason=RANKED)
    v1 = training_start(project=project, actor=project.owner)  # misses triangles
    stats = Evaluation.objects.get(model_version=v1).error_stats["by_pick"]

    def expected(ids):
        shapes = [s for i in ids for s in shapes_of[i]]
        missed = sum(1 for s in shapes if s["label"] == "triangle")
        return {
            "items": len(ids),
            "true_positive": len(shapes) - missed,
            "false_positive": 0,
            "missed": missed,
        }

    assert stats == {"random": expected(random_ids), "strategy": expected(strategy_ids)}
    v1.refresh_from_db()
    assert v1.is_best
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:compare", args=[project.pk])).content
    svg = _svg(body.decode(), "chart-pick-curve")
    assert "axis axis-x" in svg and "axis axis-y" in svg and "F1 at IoU 0.5" in svg
    assert 'data-series="test items picked at random"' in svg
    assert 'data-series="test items picked by the strategy"' in svg
    assert svg.count("<circle") == 2 and "text-anchor" in svg
    r = expected(random_ids)
    f1 = 2 * r["true_positive"] / (2 * r["true_positive"] + r["missed"])
    gt = len(v1.train_item_ids) + len(v1.val_item_ids)
    assert f"test items picked at random: {gt}, {f1:.4g}</title>" in svg
    assert f'data-testid="pick-f1-random-v1">{f1:.3f}<' in body.decode()
    assert 'data-testid="pick-curve-meaning"' in body.decode()


@pytest.fixture
def promoted(db):
    owner = UserFactory(username="pick-owner")
    project = make_project(owner, name="Picks", labels=LABELS)
    v1 = _version(project, 1, map50=0.4)
    v1.is_best = True
    v1.save(update_fields=["is_best"])
    project.owner = owner
    return project, v1


def _note(client, project) -> str:
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:compare", args=[project.pk])).content
    svg = _svg(body.decode(), "chart-pick-curve")
    assert 'class="empty"' in svg and "<circle" not in svg
    return svg.split('class="empty"')[1]


def test_without_counts_the_chart_says_why(client, promoted):
    project, v1 = promoted
    assert "no evaluation counted its test items" in _note(client, project)
    Evaluation.objects.filter(model_version=v1).update(
        error_stats={"by_pick": {"strategy": {"items": 2, "true_positive": 3}}}
    )
    assert "no test item was picked at random yet" in _note(client, project)
    Pipeline.objects.update_or_create(
        project=project,
        defaults={
            "strategy": "entropy",
            "strategy_params": {"control_share": 0, "warmup": 0},
        },
    )
    assert "control_share is 0" in _note(client, project)
    Pipeline.objects.filter(project=project).update(
        strategy="random", strategy_params={}
    )
    assert "the strategy is random" in _note(client, project)


def test_the_compare_page_links_the_backtests(client, promoted):
    from runs.models import Job, JobKind

    project, _v1 = promoted
    job = Job.objects.create(project=project, kind=JobKind.BACKTEST)
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:compare", args=[project.pk])).content
    url = reverse("models_mgmt:backtest", args=[project.pk, job.pk])
    assert f'href="{url}"' in body.decode()
