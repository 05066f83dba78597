"""The error-analysis figures of issue 14, small, with real ultralytics on the CPU.

One yolov8n is trained from scratch (10 epochs, 200 generated 96 px images
whose labels carry 5 % flipped classes, 5 % shifted boxes and 5 % deleted
shapes; ``cross`` is a class of the model but never appears in training).
The tests then score other generated images with it. Everything is seeded;
the longer runs are bench/error_analysis.py (figures in bench/RESULTS.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from ml.errors import MISSED, TRUE_POSITIVE, match_images, summarize
from ml.label_errors import rank_label_errors
from ml.ood import fit_reference, ood_scores
from ml.similarity import EmbeddingIndex
from tests.ml.error_data import (
    CLASSES,
    RARE,
    as_items,
    figures,
    other_world,
    plant_label_errors,
    scenes,
    train_detector,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend(yolo_offline):
    from ml.backends import ultralytics

    return ultralytics


@pytest.fixture(scope="module")
def world(backend, tmp_path_factory):
    root = tmp_path_factory.mktemp("error-analysis")
    train, _ = plant_label_errors(scenes(root / "train", 200, 11), 0.05, seed=1)
    weights = train_detector(backend, train, root / "model")
    return root, train, weights


def score(backend, weights, paths, embed=True):
    return list(
        backend.score_images(weights, paths, imgsz=96, conf=0.05, batch=16, embed=embed)
    )


def test_planted_label_errors_rank_at_the_top(backend, world):
    root, _, weights = world
    heldout = scenes(root / "heldout", 150, 12, split="test")
    noisy, planted = plant_label_errors(heldout, 0.05, seed=2)
    preds = score(backend, weights, [i.path for i in noisy], embed=False)
    ranking = rank_label_errors(as_items(noisy, preds), class_names=CLASSES)
    result = figures(ranking, planted)
    print("label errors, recall/precision at 2 x planted:", result)
    for kind, f in result.items():
        assert f["planted"] == 16, kind
        assert f["recall"] >= 0.7, (kind, f)
        assert f["recall_all"] >= 0.7, (kind, f)


def test_similar_items_of_a_rare_kind_from_one_labelled_example(backend, world):
    from ml.backends.ultralytics.inference import embed_crops

    root, _, weights = world
    n = 500
    rare = [int(i) for i in np.random.default_rng(5).choice(n, n // 50, replace=False)]
    pool = scenes(root / "pool", n, 21, rare_items=rare)
    preds = score(backend, weights, [i.path for i in pool])
    # Region embeddings: every detected box of the pool; each rare image in
    # turn is the one labelled example (its labelled box is the query).
    crops = [(pool[i].path, d.bbox) for i, p in enumerate(preds) for d in p.detections]
    owners = [i for i, p in enumerate(preds) for _ in p.detections]
    regions = EmbeddingIndex(owners, np.array(embed_crops(weights, crops)))
    labelled = [
        (pool[i].path, next(s.bbox for s in pool[i].shapes if s.label == RARE))
        for i in rare
    ]
    queries = np.array(embed_crops(weights, labelled))
    # Whole-image embeddings from the scoring pass, for comparison.
    images = EmbeddingIndex(list(range(n)), np.array([p.embedding for p in preds]))

    def found(index, query, example):
        return sum(nb.id in rare for nb in index.query(query, 50, exclude=[example]))

    by_region = [found(regions, queries[j], i) for j, i in enumerate(rare)]
    by_image = [found(images, np.array(preds[i].embedding), i) for i in rare]
    base_rate = (len(rare) - 1) / (n - 1)
    print(
        f"similar items: rare items in the top 50 (of {len(rare) - 1}; base rate "
        f"{base_rate:.3f}, 5x = {250 * base_rate:.1f}) by region {by_region}, "
        f"by image {by_image}"
    )
    assert min(by_region) / 50 >= 5 * base_rate


def test_out_of_distribution_items_score_above_the_training_95th_percentile(
    backend, world
):
    from ml.embeddings import pixel_embeddings

    root, train, weights = world
    heldout = [i.path for i in scenes(root / "ood-heldout", 200, 13)]
    strange = other_world(root / "ood", 100, 41)
    train_paths = [i.path for i in train]
    # Pixel embeddings (what every item gets before a model exists) meet the
    # targets; the detector's pooled embedding is reported for comparison.
    ref = fit_reference(np.array(pixel_embeddings(train_paths)))
    inside = ood_scores(ref, np.array(pixel_embeddings(heldout))).flagged.mean()
    outside = ood_scores(ref, np.array(pixel_embeddings(strange))).flagged.mean()
    emb = {
        name: np.array([p.embedding for p in score(backend, weights, paths)])
        for name, paths in (("train", train_paths), ("in", heldout), ("out", strange))
    }
    det_ref = fit_reference(emb["train"])
    print(
        f"OOD flagged (pixel embeddings): in-distribution {inside:.3f}, other "
        f"generator {outside:.3f}; detector embeddings: "
        f"{ood_scores(det_ref, emb['in']).flagged.mean():.3f} / "
        f"{ood_scores(det_ref, emb['out']).flagged.mean():.3f}"
    )
    assert outside >= 0.9
    assert inside <= 0.1


def test_a_class_never_seen_in_training_fills_its_missed_bucket(backend, world):
    root, _, weights = world
    unseen = scenes(root / "unseen", 30, 31, rare_items=range(30))
    preds = score(backend, weights, [i.path for i in unseen], embed=False)
    records = match_images(as_items(unseen, preds))
    summary = summarize(records)
    cross = summary.per_class[RARE]
    assert cross[MISSED].image_ids == tuple(range(30))
    assert cross[MISSED].count == 30 and TRUE_POSITIVE not in cross
    # The known classes in the same images are found: the bucket is specific.
    known = [summary.rates(c)["recall"] for c in CLASSES if c != RARE]
    confused = sum(
        r.kind == MISSED and r.label == RARE and r.predicted is not None
        for r in records
    )
    print(f"unseen class: {cross[MISSED].count} missed ({confused} as another class)")
    print("recall of the known classes in those images:", known)
    assert min(r for r in known if r is not None) >= 0.5


def test_a_crop_of_the_whole_image_embeds_like_the_image(backend, world):
    from ml.backends.ultralytics.inference import embed_crops

    _, train, weights = world
    path = train[0].path
    whole, part = embed_crops(
        weights,
        [(path, (0, 0, 96, 96)), (path, train[0].shapes[0].bbox)],
        imgsz=96,
        pad=0,
    )
    image = backend.embed(weights, [path], imgsz=96)[0]
    assert len(whole) == len(image) and np.allclose(whole, image, atol=1e-4)
    assert not np.allclose(part, image, atol=1e-2)
    with pytest.raises(ValueError, match="outside"):
        embed_crops(weights, [(path, (200, 200, 10, 10))])
