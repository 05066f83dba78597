"""The loop's strategies inside the app: priorities with their reason, the random
control share, the quality gate, automatic epochs (scripted fast backend with
predictions that differ per image)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Annotation, Item, ItemStatus
from ml.selection import Candidate
from models_mgmt.models import Comparison, ModelVersion
from models_mgmt.services import backend as backend_service
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt import fake_backend
from tests.models_mgmt.test_triggers_and_promotion import approve


@pytest.fixture
def varied(settings):
    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.varied_backend"
    backend_service.get_backend.cache_clear()
    fake_backend.METRICS = {"map50": 0.6, "map50_95": 0.4, "precision": 0.6,
                            "recall": 0.6}  # fmt: skip
    fake_backend.SCORES.clear()
    yield
    backend_service.get_backend.cache_clear()


def _project(min_test_items=1, strategy="hybrid", params=None):
    owner = UserFactory(username="strat-owner")
    project = make_project(owner, name="Strategies")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "strategy": strategy,
            "strategy_params": params or {},
            "split": {"train": 0.5, "val": 0.25, "test": 0.25, "seed": 3},
            "comparison_config": {"min_test_items": min_test_items},
        },
    )
    project.owner = owner
    return project


@pytest.mark.django_db(transaction=True)
def test_every_priority_keeps_its_reason_and_the_batch_holds_its_control_share(varied):
    # No warm-up: the strategy's own batch from the first model on.
    project = _project(params={"batch_size": 10, "control_share": 0.2, "warmup": 0})
    approve(project, 8)
    make_items(project, 40, start_seed=100)
    version = training_start(project=project, actor=project.owner)
    assert ModelVersion.objects.get(pk=version.pk).is_best
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    reasons = [i.priority_reason for i in pool]
    assert len(reasons) == 40
    for r in reasons:
        assert r["strategy"] == "hybrid" and r["model_name"] == "v1"
        assert r["model_version"] == version.pk and r["at"]
        assert "rare" in r["components"] and "uncertainty" in r["components"]
    batch = [r for r in reasons if r["in_batch"]]
    assert len(batch) == 10 and sorted(r["rank"] for r in batch) == list(range(10))
    # Pre-annotations carry the version as users know it.
    names = Annotation.objects.filter(item__in=pool, source="model")
    assert names.exists() and set(names.values_list("model_name", flat=True)) == {"v1"}
    assert sum(r["control"] for r in batch) == 2
    # The batch is the head of the queue.
    top = pool.order_by("-priority", "id")[:10]
    assert all(i.priority_reason["in_batch"] for i in top)
    # The label page's task says why, with the version as users know it.
    annotator = project.owner
    api = APIClient()
    api.force_authenticate(annotator)
    task = api.post(
        f"/api/v1/projects/{project.pk}/tasks/next/", {"kind": "label"}, format="json"
    ).json()
    assert "scored by v1" in task["item"]["priority_why"]
    assert task["item"]["priority_reason"]["in_batch"] is True
    api.force_login(project.owner)
    page = api.get(reverse("annotate:project-items", args=[project.pk]))
    assert b"scored by v1" in page.content


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_orders_at_random_until_enough_items_are_ground_truth(varied):
    from annotate.explain import priority_explanation
    from ml.selection import select
    from models_mgmt.services.scoring import prioritise_project

    project = _project(params={"batch_size": 10, "warmup": 9})
    approve(project, 8)
    make_items(project, 30, start_seed=100)
    training_start(project=project, actor=project.owner)
    pool = list(Item.objects.filter(project=project, status=ItemStatus.UNLABELED))
    batch = sorted((i for i in pool if i.priority_reason["in_batch"]),
                   key=lambda i: i.priority_reason["rank"])  # fmt: skip
    assert len(batch) == 10
    assert all(i.priority_reason["warmup"] for i in pool)
    assert not any(i.priority_reason["control"] for i in pool)
    assert "warm-up pick 1" in priority_explanation(batch[0])
    assert "until 9 items are ground truth (8 now)" in priority_explanation(batch[0])
    # Exactly random's batch with the project's seed.
    random_batch = select(
        "random", [Candidate(i.pk) for i in pool], {"batch_size": 10}, 3
    ).batch()
    assert [i.pk for i in batch] == random_batch
    # The ninth item of ground truth ends the warm-up.
    approve(project, 1, start=60)
    prioritise_project(project=project)
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    assert not any(i.priority_reason["warmup"] for i in pool)
    assert sum(i.priority_reason["control"] for i in pool) == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_best_model_starts_a_new_batch(varied):
    project = _project(params={"batch_size": 10, "control_share": 0.1})
    approve(project, 8)
    make_items(project, 30, start_seed=100)
    training_start(project=project, actor=project.owner)
    fake_backend.METRICS = {**fake_backend.METRICS, "map50_95": 0.6}
    approve(project, 2, start=50)
    v2 = training_start(project=project, actor=project.owner)
    assert ModelVersion.objects.get(pk=v2.pk).is_best
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    assert {i.priority_reason["batch"] for i in pool} == {1}
    assert {i.priority_reason["model_name"] for i in pool} == {"v2"}


@pytest.mark.django_db(transaction=True)
def test_the_quality_gate_keeps_a_model_from_promotion_and_the_page_says_why(varied):
    project = _project(min_test_items=10)
    approve(project, 8)  # 2 test items
    version = training_start(project=project, actor=project.owner)
    comparison = Comparison.objects.get(candidate=version)
    assert (
        not comparison.promoted
        and not ModelVersion.objects.filter(project=project, is_best=True).exists()
    )
    assert "fewer than the 10" in comparison.reason
    client = APIClient()
    client.force_login(project.owner)
    page = client.get(reverse("models_mgmt:models", args=[project.pk]))
    gate = page.content.decode()
    assert "8 more test items needed" in gate
    assert "approve about 32 more items" in gate  # 8 more at a 25 % test share


@pytest.mark.django_db(transaction=True)
def test_automatic_epochs_are_frozen_with_the_version(varied):
    project = _project()
    approve(project, 8)  # 4 train items: 2000 / 4 images seen, capped at 300
    version = training_start(project=project, actor=project.owner)
    version.refresh_from_db()
    # (version.epochs is what the scripted backend reported: 1 of 1.)
    assert version.config["epochs"] == 300


@pytest.mark.django_db
def test_unknown_strategies_and_bad_params_are_400_naming_the_field(project_roles):
    project, users, _ = project_roles
    api = APIClient()
    api.force_authenticate(users["owner"])
    url = reverse("api-pipeline", args=[project.pk])
    before = api.get(url).json()
    for body, field in (
        ({"strategy": "oracle"}, "strategy"),
        ({"strategy": "hybrid", "strategy_params": {"alpha": 3}}, "strategy_params"),
        ({"strategy_params": {"control_share": 0.9}}, "strategy_params"),
        ({"strategy_params": {"magic": 1}}, "strategy_params"),
    ):
        r = api.patch(url, body, format="json")
        assert r.status_code == 400 and field in r.json(), (body, r.content)
    assert api.get(url).json() == before
