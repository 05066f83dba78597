"""Scoring throughput: alweb's pipeline against plain ``YOLO.predict``.

Builds a fresh project (temporary SQLite + media) with --gt ground-truth
synthetic images, trains a 1-epoch yolov8n through training_start (sync mode;
the first version is promoted to best), then adds --images unlabelled 320x240
synthetic images. Times, on the same images, imgsz and conf:

(a) plain: ``YOLO(best.pt).predict(chunk, stream=True, batch=B)`` per chunk
    of B paths, results consumed;
(b) pipeline: ``scoring_request`` run inline (django-q2 sync): batched
    score_images with class scores and embeddings, uncertainty,
    pre-annotation rows, bulk updates, heartbeats and prioritise_project.

Each is warmed up once (one chunk) before timing. Prints images/s, the ratio
(target >= 0.9), the extrapolated time for 10,000 images (target <= 6 min) and
where the pipeline's time goes. --profile adds a cProfile listing; --patched
re-runs the pipeline with the fix suggested in the report (model cached
across chunks), monkeypatched here only.

--conf sets the model config's conf (a 1-epoch model keeps no box at 0.05;
0.001 gives ~68 boxes/image, a worst case for the pre-annotation writes).
--threads sets torch's thread count (ultralytics sets OMP_NUM_THREADS=1).

Usage: .venv/bin/python bench/scoring.py [--images 500] [--imgsz 320] [--batch 16]
       [--conf 0.05] [--threads 0] [--profile] [--patched]
"""

import argparse
import cProfile
import functools
import io
import pstats
import time

from _common import add_ground_truth, add_items, header, make_project, setup_django

TARGET_RATIO, TARGET_10K_S = 0.9, 360.0


def wrap(module, name: str, times: dict, key: str | None = None) -> None:
    """Accumulate the wall time of module.name (generators: time to exhaust)."""
    fn = getattr(module, name)

    @functools.wraps(fn)
    def timed(*a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            times[key or name] = times.get(key or name, 0.0) + time.perf_counter() - t0

    setattr(module, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--gt", type=int, default=16, help="ground-truth images")
    ap.add_argument("--conf", type=float, default=0.05, help="model config conf")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: as is)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--patched", action="store_true")
    args = ap.parse_args()

    setup_django("scoring")
    from django.conf import settings

    from annotate.models import Annotation, Item, ItemStatus
    from models_mgmt.selectors import best_model
    from models_mgmt.services import scoring
    from models_mgmt.services.backend import get_backend
    from models_mgmt.services.training import training_start
    from runs.models import Job

    backend = get_backend()  # offline set-up before ultralytics is imported
    from ultralytics import YOLO
    from ultralytics.engine.predictor import BasePredictor

    import ml.backends.ultralytics.inference as inference

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    header("scoring throughput")
    settings.ALWEB_SCORING_BATCH = args.batch
    cfg = {"architecture": "yolov8n.yaml", "epochs": 1, "imgsz": args.imgsz}
    cfg |= {"batch": 16, "conf": args.conf}
    project, owner = make_project(cfg)
    t0 = time.perf_counter()
    add_ground_truth(project, owner, args.gt, start_seed=100_000)
    training_start(project=project, actor=owner)  # sync: trains, promotes
    model = best_model(project=project)
    assert model is not None, "training did not produce a best model"
    t1 = time.perf_counter()
    add_items(project, args.images)
    t2 = time.perf_counter()
    print(f"set-up: train 1 epoch on {args.gt} GT {t1 - t0:.1f}s, ")
    print(f"        {args.images} unlabelled 320x240 items {t2 - t1:.1f}s")
    weights, conf = model.weights.path, model.config["conf"]
    iou = model.config["iou"]
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    paths = [it.file.path for it in pool.order_by("id")]
    n, b = len(paths), args.batch
    opts = dict(imgsz=args.imgsz, conf=conf, iou=iou, device="cpu", verbose=False)

    def plain() -> float:
        yolo = YOLO(weights)
        for _ in yolo.predict(paths[:b], stream=True, batch=b, **opts):  # warm-up
            pass
        t0, count = time.perf_counter(), 0
        for s in range(0, n, b):
            for _ in yolo.predict(paths[s : s + b], stream=True, batch=b, **opts):
                count += 1
        assert count == n
        return time.perf_counter() - t0

    def pipeline(label: str) -> float:
        pool.update(scored_by=None, uncertainty=None, embedding=None)
        list(backend.score_images(weights, paths[:b], imgsz=args.imgsz, conf=conf))
        Annotation.objects.filter(item__project=project, source="model").delete()
        t0 = time.perf_counter()
        scoring.scoring_request(project=project)  # runs inline (sync)
        dt = time.perf_counter() - t0
        job = Job.objects.filter(project=project, kind="score").latest("id")
        assert job.status == "succeeded", job.error
        assert job.result["scored"] == n, job.result
        anns = Annotation.objects.filter(item__project=project, source="model")
        print(f"  [{label}] scored {n}, {anns.count()} pre-annotations, {dt:.2f}s")
        return dt

    # Break-down of the pipeline by function (wrappers add ~us per call).
    times: dict[str, float] = {}
    wrap(inference, "build_base", times, "model load (build_base)")
    wrap(inference, "_to_prediction", times, "result -> ImagePrediction")
    wrap(scoring, "image_uncertainty", times, "uncertainty")
    wrap(scoring, "_pre_annotations", times, "pre-annotation rows")
    wrap(scoring, "run_heartbeat_or_stop", times, "heartbeats")
    wrap(scoring, "prioritise_project", times, "prioritise_project")
    wrap(scoring, "_store_scores", times, "_store_scores (scores + DB writes)")
    from django.db.models.query import QuerySet

    wrap(QuerySet, "bulk_create", times, "DB: bulk_create pre-annotations")
    wrap(QuerySet, "bulk_update", times, "DB: bulk_update items")
    wrap(QuerySet, "delete", times, "DB: delete old pre-annotations")
    predictor = inference._predictor_classes()["detect"]
    wrap(predictor, "postprocess", times, "postprocess: NMS + class scores")
    wrap(BasePredictor, "setup_model", times, "predictor set-up (AutoBackend+fuse)")

    t_plain = plain()
    times.clear()
    t_pipe = pipeline("pipeline")
    breakdown = dict(times)
    t_plain2 = plain()  # again, to see drift on a busy machine
    t_ref = min(t_plain, t_plain2)

    ips_plain, ips_pipe = n / t_ref, n / t_pipe
    print(f"\nimages {n}, imgsz {args.imgsz}, batch {b}, conf {conf}, iou {iou}")
    print(f"plain YOLO.predict : {t_plain:.2f}s / {t_plain2:.2f}s (best used)")
    print(f"  -> {ips_plain:.1f} img/s, 10k in {1e4 / ips_plain / 60:.1f} min")
    print(f"pipeline scoring   : {t_pipe:.2f}s -> {ips_pipe:.1f} img/s")
    ten_k = 1e4 / ips_pipe
    ratio = ips_pipe / ips_plain
    ok = "MET" if ratio >= TARGET_RATIO else "NOT MET"
    print(f"ratio pipeline/plain: {ratio:.3f} (target >= {TARGET_RATIO}: {ok})")
    ok = "MET" if ten_k <= TARGET_10K_S else "NOT MET"
    print(f"10,000 images (linear): {ten_k / 60:.1f} min (target <= 6 min: {ok})")
    print("pipeline break-down (s, share of pipeline wall time):")
    for key, v in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        print(f"  {key:36s} {v:7.2f}  {100 * v / t_pipe:5.1f}%")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        pipeline("cProfile")
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print("\n".join(out.getvalue().splitlines()[:45]))

    if args.patched:
        # A model cache across scoring runs (the pipeline already loads the
        # model once per page of up to 32 batches).
        cached = functools.lru_cache(maxsize=2)(inference.build_base)
        inference.build_base = lambda *a, **kw: cached(*a, **kw)
        times.clear()
        t_fix = pipeline("patched: model cached")
        print(f"patched pipeline: {n / t_fix:.1f} img/s, ratio {t_ref / t_fix:.3f}")
        for key, v in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {key:36s} {v:7.2f}  {100 * v / t_fix:5.1f}%")


if __name__ == "__main__":
    main()
