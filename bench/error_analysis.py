"""Error analysis figures (#14) on generated data with known truth, real ultralytics.

Generates 96 px scenes (tests/ml/error_data.py: square, disc, triangle; the
``cross`` kind is a class of every model but never in its training data, or
rare), plants label errors in 5 % of the shapes each (flipped class, box
shifted by half its size, deleted shape) and trains yolov8n from scratch on the
CPU. Sections (``--only`` picks some):

* ``label_errors``: two-fold out-of-fold: a model trained on each half scores
  the other half; one ranking over all images; precision / recall at
  2 x planted per kind (within the kind, and in the ranking of all kinds).
* ``similarity``: a pool with the rare kind in 2 % of the images; every rare
  image in turn is the one labelled example; rare items among the top 50 by
  region embeddings (detected boxes cut out and embedded) and by the image
  embedding; also buckets of 3 examples (centroid and union).
* ``ood``: items of another generator (stripes, rings and bars) and of
  bench/al_data.py vs held-out items of the same generator, flagged above the
  training set's 95th percentile, with detector, pixel and both embeddings;
  a drift summary over simulated days.
* ``buckets``: images holding the class never seen in training; TIDE-style
  buckets of the two fold models on fresh images and their version diff.
* ``speed``: exact kNN over 100,000 x 256 random vectors (one vector,
  buckets), the OOD reference fit, the PCA map.

Usage: .venv/bin/python bench/error_analysis.py [--out bench/out/errors]
       [--only label_errors,similarity,ood,buckets,speed] [--labelled 600]
       [--epochs 15] [--pool 2000] [--n 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("YOLO_VERBOSE", "False")

import numpy as np  # noqa: E402

from ml.error_diff import diff_versions  # noqa: E402
from ml.errors import ERROR_KINDS, MISSED, match_images, summarize  # noqa: E402
from ml.label_errors import folds, rank_label_errors  # noqa: E402
from ml.ood import drift, fit_reference, ood_scores  # noqa: E402
from ml.projection import project_2d  # noqa: E402
from ml.similarity import EmbeddingIndex, knn, unit_rows  # noqa: E402
from tests.ml.error_data import (  # noqa: E402
    CLASSES,
    RARE,
    as_items,
    figures,
    other_world,
    plant_label_errors,
    scenes,
    train_detector,
)

SECTIONS = ("label_errors", "similarity", "ood", "buckets", "speed")


def score(backend, weights, paths, embed=True):
    return list(
        backend.score_images(weights, paths, imgsz=96, conf=0.05, batch=32, embed=embed)
    )


def section(name: str) -> None:
    print(f"\n== {name} ==", flush=True)


def label_errors(backend, out: Path, args) -> dict:
    section("label errors, two-fold out-of-fold")
    images = scenes(out / "labelled", args.labelled, 101)
    noisy, planted = plant_label_errors(images, 0.05, seed=7)
    halves = folds(list(range(len(noisy))), 2, seed=0)
    models, preds = [], [None] * len(noisy)
    for f, held in enumerate(halves):
        train = [noisy[i] for i in range(len(noisy)) if i not in set(held)]
        t0 = time.monotonic()
        weights = train_detector(backend, train, out / f"fold{f}", args.epochs)
        t_train = time.monotonic() - t0
        for i, p in zip(
            held, score(backend, weights, [noisy[i].path for i in held]), strict=True
        ):
            preds[i] = p
        models.append((weights, train))
        print(f"fold {f}: {len(train)} images, {args.epochs} epochs: {t_train:.0f} s")
    t0 = time.monotonic()
    ranking = rank_label_errors(as_items(noisy, preds), class_names=CLASSES)
    t_rank = time.monotonic() - t0
    shapes = sum(len(i.shapes) for i in images)
    print(
        f"{len(images)} images, {shapes} shapes, {len(planted)} planted errors; "
        f"{len(ranking)} candidates ranked in {t_rank * 1000:.0f} ms"
    )
    for kind, f in figures(ranking, planted).items():
        print(
            f"  {kind:14s} planted {f['planted']:3d}: within the kind P@2n "
            f"{f['precision']:.2f} R@2n {f['recall']:.2f}; "
            f"all kinds R@{2 * len(planted)} {f['recall_all']:.2f}"
        )
    return {"models": models, "embeddings": preds}


def _hits(
    index: EmbeddingIndex, query, exclude, rare: set, k: int = 50, mode="centroid"
):
    return sum(
        nb.id in rare for nb in index.query(query, k, mode=mode, exclude=exclude)
    )


def _report(name: str, found: list[int], base: float) -> None:
    ok = sum(h / 50 >= 5 * base for h in found)
    mean = statistics.mean(found)
    print(
        f"  {name}: rare items in the top 50, mean {mean:.1f} (min {min(found)}, "
        f"max {max(found)}) = {mean / 50 / base:.1f}x the base rate; >= 5x for "
        f"{ok} of {len(found)} queries"
    )


def similarity(backend, out: Path, args, weights) -> None:
    from ml.backends.ultralytics.inference import embed_crops

    section("similar-item mining")
    n = args.pool
    rare = sorted(
        int(i) for i in np.random.default_rng(5).choice(n, n // 50, replace=False)
    )
    pool = scenes(out / "pool", n, 103, rare_items=rare)
    preds = score(backend, weights, [i.path for i in pool])
    crops = [(pool[i].path, d.bbox) for i, p in enumerate(preds) for d in p.detections]
    owners = [i for i, p in enumerate(preds) for _ in p.detections]
    boxes = [next(s.bbox for s in pool[i].shapes if s.label == RARE) for i in rare]
    examples = [(pool[i].path, b) for i, b in zip(rare, boxes, strict=True)]
    rs = set(rare)
    base = (len(rare) - 1) / (n - 1)
    print(
        f"rare kind in {len(rare)} of {n} images; base rate {base:.3f}: "
        f"5x = {5 * base * 50:.1f} of 50; {len(crops)} detected regions"
    )
    images = EmbeddingIndex(list(range(n)), np.array([p.embedding for p in preds]))
    found = [_hits(images, np.array(preds[i].embedding), [i], rs) for i in rare]
    _report("by image embedding      ", found, base)
    for size in (int(v) for v in args.crop_sizes.split(",")):
        t0 = time.monotonic()
        regions = EmbeddingIndex(
            owners, np.array(embed_crops(weights, crops, imgsz=size))
        )
        queries = np.array(embed_crops(weights, examples, imgsz=size))
        took = time.monotonic() - t0
        found = [_hits(regions, queries[j], [i], rs) for j, i in enumerate(rare)]
        _report(f"by region at {size:3d} px ({took:3.0f} s)", found, base)
        for mode in ("centroid", "union"):
            found = [
                _hits(regions, queries[j : j + 3], rare[j : j + 3], rs, mode=mode)
                for j in range(0, len(rare) - 2, 3)
            ]
            mean = statistics.mean(found)
            print(f"    buckets of 3 examples by {mode}: {mean:.1f} in the top 50")


def ood(backend, out: Path, args, weights, train) -> None:
    from al_data import generate

    from ml.embeddings import pixel_embeddings

    section("out-of-distribution")
    heldout = [i.path for i in scenes(out / "ood-heldout", 500, 102)]
    strange = other_world(out / "other", 300, 41)
    generate(out / "al_data", 300, 9)
    al = sorted(str(p) for p in (out / "al_data/images").glob("*.png"))
    sets = {
        "train": [i.path for i in train],
        "in": heldout,
        "other": strange,
        "al_data": al,
    }
    det = {
        k: np.array([p.embedding for p in score(backend, weights, v)])
        for k, v in sets.items()
    }
    pix = {k: np.array(pixel_embeddings(v)) for k, v in sets.items()}
    both = {
        k: np.hstack([unit_rows(det[k], np.float64), unit_rows(pix[k], np.float64)])
        for k in sets
    }
    n_train = len(sets["train"])
    print(f"reference: {n_train} training images; k = 5; threshold: 95th percentile")
    flags = {}
    for name, emb in (("detector", det), ("pixel", pix), ("both", both)):
        ref = fit_reference(emb["train"])
        rates = {k: ood_scores(ref, emb[k]).flagged for k in ("in", "other", "al_data")}
        flags[name] = rates
        print(
            f"  {name:8s} embeddings ({emb['train'].shape[1]}-d): flagged "
            f"in-distribution {rates['in'].mean():.3f}, "
            f"other generator {rates['other'].mean():.3f}, "
            f"al_data {rates['al_data'].mean():.3f}"
        )
    # Drift: 5 days of in-distribution items, then 5 days where the other
    # generator's share grows 0 % -> 100 %.
    rng = np.random.default_rng(3)
    day0 = datetime(2026, 1, 1, tzinfo=UTC)
    stamps, flagged = [], []
    for day in range(10):
        share = 0.0 if day < 5 else (day - 4) / 5
        for _ in range(50):
            src = "other" if rng.random() < share else "in"
            i = int(rng.integers(len(flags["pixel"][src])))
            stamps.append(day0 + timedelta(days=day, hours=float(rng.uniform(0, 24))))
            flagged.append(bool(flags["pixel"][src][i]))
    print(
        "  drift (pixel embeddings), share flagged per day:",
        " ".join(f"{b.share:.2f}" for b in drift(flagged, stamps)),
    )


def buckets(backend, out: Path, args, models) -> None:
    section("error buckets")
    unseen = scenes(out / "unseen", 200, 104, rare_items=range(200))
    w0 = models[0][0]
    records = match_images(
        as_items(unseen, score(backend, w0, [i.path for i in unseen], False))
    )
    summary = summarize(records)
    cross = summary.per_class[RARE]
    explained = sum(
        r.kind == MISSED and r.label == RARE and r.predicted is not None
        for r in records
    )
    tp = cross["true_positive"].count if "true_positive" in cross else 0
    print(
        f"class never seen in training: {cross[MISSED].count} of 200 crosses missed, "
        f"in {len(cross[MISSED].image_ids)} of 200 images ({explained} as another "
        f"class); true positives {tp}"
    )
    # An earlier version: the fold-0 training set, a third of the epochs.
    (w0, train0) = models[0]
    early = max(1, args.epochs // 3)
    w_early = train_detector(backend, train0, out / "early", early)
    fresh = scenes(out / "fresh", 300, 105, split="test")
    tags = {n: f"{len(img.shapes)} objects" for n, img in enumerate(fresh)}
    per_model = []
    versions = ((f"v1 ({early} epochs)", w_early), (f"v2 ({args.epochs} epochs)", w0))
    for name, w in versions:
        recs = match_images(
            as_items(fresh, score(backend, w, [i.path for i in fresh], False)),
            min_confidence=0.25,
        )
        s = summarize(recs, tags)
        per_model.append(recs)
        counts = ", ".join(
            f"{k} {s.overall[k].count}" for k in ("true_positive", *ERROR_KINDS)
        )
        r = s.rates()
        print(
            f"  {name} at conf 0.25: {counts}; "
            f"precision {r['precision']:.3f} recall {r['recall']:.3f}"
        )
    diff = diff_versions(*per_model)
    c = diff.counts()
    print(
        "  v1 -> v2: fixed "
        + ", ".join(f"{k} {v}" for k, v in c["fixed"].items() if v)
        + "; introduced "
        + ", ".join(f"{k} {v}" for k, v in c["introduced"].items() if v)
        + f"; kept {sum(c['kept'].values())}"
    )
    for tag, cs in diff.per_slice(tags).items():
        fixed, new = sum(cs["fixed"].values()), sum(cs["introduced"].values())
        print(f"    {tag}: fixed {fixed}, introduced {new}")


def _timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def speed(args) -> None:
    section(f"speed: {args.n} x 256 float32, exact")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(args.n, 256)).astype(np.float32)
    index, t = _timed(lambda: EmbeddingIndex(list(range(args.n)), vectors), 1)
    print(f"  index build {t[0]:.2f} s ({args.n * 256 * 4 / 2**20:.0f} MiB of vectors)")
    queries = rng.normal(size=(30, 256))
    _, t = _timed(
        lambda: index.query(queries[int(rng.integers(30))], 50, exclude=[1, 2, 3]), 30
    )
    median, top = statistics.median(t) * 1000, max(t) * 1000
    print(f"  one vector, top 50: median {median:.1f} ms, max {top:.1f} ms")
    for m in (10, 100):
        bucket = rng.normal(size=(m, 256))
        for mode in ("centroid", "union"):
            _, t = _timed(lambda b=bucket, md=mode: index.query(b, 50, mode=md), 5)
            median = statistics.median(t) * 1000
            print(f"  bucket of {m:3d} by {mode:8s}: median {median:.1f} ms")
    sub = vectors[:10_000]
    ref, t = _timed(lambda: fit_reference(sub), 1)
    print(f"  OOD reference of 10,000 (leave-one-out 5-NN): {t[0]:.2f} s")
    _, t = _timed(lambda: ood_scores(ref, vectors[10_000:20_000]), 1)
    print(f"  OOD scores of 10,000 items against it: {t[0]:.2f} s")
    _, t = _timed(lambda: knn(vectors[:1000], vectors, 10), 1)
    print(f"  kNN of 1,000 queries over {args.n}: {t[0]:.2f} s")
    _, t = _timed(lambda: project_2d(vectors), 1)
    print(f"  PCA map of {args.n}: {t[0]:.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {rss:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/errors")
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--labelled", type=int, default=600)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--crop-sizes", default="64,96,128,160")
    args = ap.parse_args()
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        ap.error(f"--only takes {', '.join(SECTIONS)}")
    if "speed" in only:
        speed(args)
    if not only - {"speed"}:
        return
    import shutil

    from ml.backends import ultralytics as backend

    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    backend.setup_offline(out / "yolo-config")
    trained = label_errors(backend, out, args)
    weights, train = trained["models"][0]
    if "similarity" in only:
        similarity(backend, out, args, weights)
    if "ood" in only:
        ood(backend, out, args, weights, train)
    if "buckets" in only:
        buckets(backend, out, args, trained["models"])


if __name__ == "__main__":
    main()
