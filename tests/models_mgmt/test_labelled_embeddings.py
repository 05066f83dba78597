"""Issue 14: the ground truth is embedded by the best model too (scoring embeds
it after the unlabelled pool: the embedding and scored_by only), and every
comparison of embeddings stays in one model's space: diversity's reference
set, similar-item search from a labelled item, similar mistakes and the map
leave out an embedding left from the cold start or an older model.

The model is the scripted backend with per-image embeddings (varied_backend,
as the other scoring tests): training and scoring run inline."""

import numpy as np
import pytest

from annotate.models import Annotation, Item, ItemStatus
from annotate.selectors_map import embedding_map
from annotate.selectors_mining import item_similar, labelled_similar
from models_mgmt.models import ModelVersion
from models_mgmt.services.scoring import prioritise_project
from models_mgmt.services.training import training_start
from runs.models import Job
from tests.factories import make_items
from tests.models_mgmt.test_strategies_live import _project, varied  # noqa: F401
from tests.models_mgmt.test_triggers_and_promotion import approve

pytestmark = pytest.mark.django_db(transaction=True)


def _labels(items) -> list[tuple]:
    return list(
        Annotation.objects.filter(item__in=items)
        .order_by("id")
        .values_list("id", "item_id", "label", "geometry", "source", "accepted")
    )


def _scored_world():
    """6 ground-truth items and 10 unlabelled, then a model trained, promoted
    and scored with (diversity: its queue reason keeps the distance to the
    labelled items)."""
    project = _project(strategy="diversity", params={"batch_size": 4})
    done = approve(project, 6)
    labels = _labels(done)
    make_items(project, 10, start_seed=100)
    version = training_start(project=project, actor=project.owner)
    assert ModelVersion.objects.get(pk=version.pk).is_best
    return project, version, done, labels


def test_scoring_embeds_the_ground_truth_with_the_model_and_keeps_its_labels(
    varied,  # noqa: F811
):
    project, version, done, labels = _scored_world()
    pool = list(Item.objects.filter(project=project, status=ItemStatus.UNLABELED))
    assert len(pool) == 10
    assert {i.scored_by for i in pool} == {version.pk}
    dim = len(pool[0].embedding)
    truth = list(Item.objects.filter(pk__in=[i.pk for i in done]).order_by("id"))
    for item in truth:
        assert item.status == ItemStatus.DONE
        assert item.scored_by == version.pk and item.scored_at is not None
        assert isinstance(item.embedding, list) and len(item.embedding) == dim
    # The embedding only: no pre-annotations, the labels as they were.
    assert _labels(done) == labels
    assert not Annotation.objects.filter(item__in=done, source="model").exists()
    last = Job.objects.filter(project=project, kind="score").latest("id")
    assert last.result["ground_truth_embedded"] == 6
    # Every labelled item is a reference: each unlabelled item's distance to
    # the labelled ones (its queue reason) is the nearest one's, by hand.
    ref = np.array([i.embedding for i in truth])
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    for item in pool:
        v = np.array(item.embedding) / np.linalg.norm(item.embedding)
        expect = np.sqrt(np.clip(2 - 2 * (ref @ v).max(), 0, 4)) / 2
        got = item.priority_reason["components"]["distance"]
        assert got == pytest.approx(expect, abs=1e-6)


def test_an_embedding_of_another_space_is_compared_with_nothing(
    varied,  # noqa: F811
):
    project, version, done, _ = _scored_world()
    query = Item.objects.filter(project=project, status=ItemStatus.UNLABELED).first()
    # Two labelled items keep a leftover of the query's own vector (same
    # size): one from the cold start (pixels, no model), one from an older
    # model. Compared with it they would be at distance 0.
    stale_pixel, stale_older = done[0], done[1]
    Item.objects.filter(pk=stale_pixel.pk).update(
        embedding=query.embedding, scored_by=None
    )
    Item.objects.filter(pk=stale_older.pk).update(
        embedding=query.embedding, scored_by=version.pk + 1000
    )
    stale = {stale_pixel.pk, stale_older.pk}
    prioritise_project(project=project)
    query.refresh_from_db()
    current = np.array(
        [i.embedding for i in Item.objects.filter(pk__in=[d.pk for d in done[2:]])]
    )
    current /= np.linalg.norm(current, axis=1, keepdims=True)
    v = np.array(query.embedding) / np.linalg.norm(query.embedding)
    expect = np.sqrt(np.clip(2 - 2 * (current @ v).max(), 0, 4)) / 2
    distance = query.priority_reason["components"]["distance"]
    assert distance == pytest.approx(expect, abs=1e-6) and distance > 0.01
    # Similar mistakes from a labelled item: only labelled items of its space.
    seed = done[2]
    found = labelled_similar(project=project, item_id=seed.pk, k=10)
    assert {s.item.pk for s in found} == {d.pk for d in done[3:]}
    # Find similar from a labelled item: the unlabelled pool, in its space.
    similar = item_similar(project=project, item_ids=[seed.pk], k=50)
    assert len(similar) == 10
    # From a stale item: only the items of the stale one's space (none left).
    assert item_similar(project=project, item_ids=[stale_pixel.pk], k=50) == []
    # The map draws the model's space only.
    data = embedding_map(project=project)
    assert data.with_embedding == 14 and len(data.points) == 14
    assert stale.isdisjoint(p.item_id for p in data.points)


def test_before_any_model_ground_truth_without_an_embedding_gets_a_pixel_one():
    """Items imported as done were never scored while unlabelled: before the
    first model they had no embedding, so diversity's reference and the map
    left them out. The cold-start pass embeds them (pixels, no model), once."""
    from annotate.selectors_loop import item_embeddings_done
    from ml.embeddings import pixel_embedding
    from models_mgmt.services.scoring import scoring_request

    project = _project(strategy="diversity", params={"batch_size": 2})
    items = make_items(project, 5)
    imported = [i.pk for i in items[:3]]
    Item.objects.filter(pk__in=imported).update(
        status=ItemStatus.DONE, embedding=None, scored_by=None
    )
    assert item_embeddings_done(project=project, model_version_id=None) == []
    scoring_request(project=project)  # inline in the tests
    for item in Item.objects.filter(pk__in=imported):
        assert item.status == ItemStatus.DONE and item.scored_by is None
        assert item.embedding == pytest.approx(list(pixel_embedding(item.file.path)))
    assert len(item_embeddings_done(project=project, model_version_id=None)) == 3
    job = Job.objects.filter(project=project, kind="score").latest("id")
    assert job.result["ground_truth_embedded"] == 3
    scoring_request(project=project)
    job = Job.objects.filter(project=project, kind="score").latest("id")
    assert job.result["ground_truth_embedded"] == 0
