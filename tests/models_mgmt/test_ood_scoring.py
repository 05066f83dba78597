"""A scoring run stores each item's OOD score against the best model's
embeddings of the train split (ml.ood), shown on the item page and in the
queue reason (the varied scripted backend: embeddings without training)."""

import numpy as np
import pytest
from django.urls import reverse

from annotate.explain import priority_explanation
from annotate.models import Item, ItemStatus
from ml import ood
from models_mgmt.models import ModelVersion
from models_mgmt.services.scoring import scoring_request
from models_mgmt.services.training import training_start
from tests.factories import make_items
from tests.models_mgmt.test_strategies_live import _project, varied  # noqa: F401
from tests.models_mgmt.test_triggers_and_promotion import approve


@pytest.mark.django_db(transaction=True)
def test_scoring_stores_the_ood_score_against_the_train_split(varied, client):  # noqa: F811
    project = _project()
    approve(project, 12)
    make_items(project, 20, start_seed=100)
    version = training_start(project=project, actor=project.owner)
    assert ModelVersion.objects.get(pk=version.pk).is_best
    train = Item.objects.filter(project=project, split="train").order_by("id")
    assert train.count() >= 2
    # The reference: the best model's own embeddings of the train items.
    assert set(train.values_list("scored_by", flat=True)) == {version.pk}
    reference = ood.fit_reference(
        np.array(list(train.values_list("embedding", flat=True)))
    )
    pool = list(
        Item.objects.filter(project=project, status=ItemStatus.UNLABELED).order_by("id")
    )
    assert len(pool) == 20
    expect = ood.ood_scores(reference, np.array([i.embedding for i in pool]))
    stored = [i.score_components["ood"] for i in pool]
    assert stored == pytest.approx(list(expect.percentile), abs=1e-6)
    assert all(0.0 <= v <= 1.0 for v in stored)
    assert len(set(stored)) > 3  # the backend's embeddings differ per image
    # The queue reason carries it, in words too.
    item = pool[0]
    assert item.priority_reason["ood"] == item.score_components["ood"]
    assert "out of distribution" in priority_explanation(item)
    client.force_login(project.owner)
    page = client.get(reverse("annotate:project-item", args=[project.pk, item.pk]))
    assert b"out of distribution" in page.content
    # A later run embeds no train item again (they carry this model's embedding).
    make_items(project, 3, start_seed=300)
    before = dict(train.values_list("pk", "scored_at"))
    scoring_request(project=project)
    assert dict(train.values_list("pk", "scored_at")) == before
    new = Item.objects.filter(project=project, original_name__startswith="img_30")
    assert all("ood" in i.score_components for i in new)
