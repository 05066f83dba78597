"""Scoring throughput: alweb's pipeline against plain ``YOLO.predict``.

Builds a fresh project (temporary SQLite + media) with --gt ground-truth demo
images (``annotate.demo_data.synthetic_image``, 320x240, 1-3 circles,
rectangles and triangles), trains the first version through training_start
(sync mode; default model config: yolov8n from scratch, imgsz 320, "auto"
epochs, as the demo's first model; it is promoted to best), and prints its
test-split mAP50. Then adds --images unlabelled demo images (other seeds) and,
for each --conf, times on the same images, imgsz and conf:

(a) plain: ``YOLO(best.pt).predict(chunk, stream=True, batch=B)`` per chunk of
    B paths, every result consumed (its boxes counted);
(b) pipeline: ``scoring_request`` run inline (django-q2 sync): the real
    models_mgmt scoring service: one prediction stream per page with class
    scores and embeddings, uncertainty, pre-annotation rows, the DB writes
    (item_predictions_replace), heartbeats and prioritise_project.

Each is warmed up once (one chunk) before timing; plain runs before and after
the pipeline and the faster plain run is the reference. The conf is set on
the best version's stored config between runs (the scoring service reads it
from there). Prints the mean boxes per image kept at each conf (from both
paths), images/s, the ratio (target >= 0.9), the time the pipeline took for
all --images (target <= 6 min for 10,000: run with --images 10000; with fewer
images the 10k time is a linear extrapolation and says so) and where the
pipeline's time goes. --skip-plain times the pipeline only.

Usage: .venv/bin/python bench/scoring.py [--images 500] [--gt 100]
       [--conf 0.05 --conf 0.001] [--imgsz 320] [--batch 16] [--skip-plain]
       [--threads 0] [--profile]
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
    ap.add_argument("--gt", type=int, default=100, help="ground-truth images")
    ap.add_argument("--epochs", default="auto", help="first version's epochs")
    ap.add_argument(
        "--conf", type=float, action="append", help="scoring conf (repeatable)"
    )
    ap.add_argument("--skip-plain", action="store_true", help="time the pipeline only")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: as is)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    confs = args.conf or [0.05, 0.001]

    setup_django("scoring")
    from django.conf import settings

    from annotate.models import Annotation, Item, ItemStatus
    from models_mgmt.models import ModelVersion
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
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    cfg = {"architecture": "yolov8n.yaml", "epochs": epochs, "imgsz": args.imgsz}
    project, owner = make_project(cfg)
    t0 = time.perf_counter()
    add_ground_truth(project, owner, args.gt, start_seed=100_000)
    training_start(project=project, actor=owner)  # sync: trains, promotes
    model = best_model(project=project)
    assert model is not None, "training did not produce a best model"
    t1 = time.perf_counter()
    add_items(project, args.images)
    t2 = time.perf_counter()
    m = model.metrics or {}
    print(
        f"set-up: first version ({model.epochs} epochs on {args.gt} GT, imgsz "
        f"{args.imgsz}) {t1 - t0:.1f}s: test mAP50 {m.get('map50', 0):.3f}, "
        f"mAP50-95 {m.get('map50_95', 0):.3f}"
    )
    print(f"        {args.images} unlabelled 320x240 items {t2 - t1:.1f}s")
    weights, iou = model.weights.path, model.config["iou"]
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    paths = [it.file.path for it in pool.order_by("id")]
    n, b = len(paths), args.batch

    def plain(conf: float) -> tuple[float, float]:
        """Seconds for all paths, mean boxes per image."""
        opts = dict(imgsz=args.imgsz, conf=conf, iou=iou, device="cpu", verbose=False)
        yolo = YOLO(weights)
        for _ in yolo.predict(paths[:b], stream=True, batch=b, **opts):  # warm-up
            pass
        t0, count, boxes = time.perf_counter(), 0, 0
        for s in range(0, n, b):
            for r in yolo.predict(paths[s : s + b], stream=True, batch=b, **opts):
                count += 1
                boxes += len(r.boxes)
        assert count == n
        return time.perf_counter() - t0, boxes / n

    detections = {"n": 0}
    store = scoring._store_scores

    def counting_store(project, model, items, predictions):
        detections["n"] += sum(len(p[0].detections) for p in predictions)
        return store(project, model, items, predictions)

    def pipeline(label: str, conf: float) -> tuple[float, float]:
        ModelVersion.objects.filter(pk=model.pk).update(
            config={**model.config, "conf": conf}
        )
        pool.update(scored_by=None, uncertainty=None, embedding=None)
        list(backend.score_images(weights, paths[:b], imgsz=args.imgsz, conf=conf))
        Annotation.objects.filter(item__project=project, source="model").delete()
        detections["n"] = 0
        t0 = time.perf_counter()
        scoring.scoring_request(project=project)  # runs inline (sync)
        dt = time.perf_counter() - t0
        job = Job.objects.filter(project=project, kind="score").latest("id")
        assert job.status == "succeeded", job.error
        assert job.result["scored"] == n, job.result
        anns = Annotation.objects.filter(item__project=project, source="model")
        shown = anns.count()
        print(
            f"  [{label}] scored {n} in {dt:.2f}s: {detections['n'] / n:.2f} "
            f"boxes/image kept by the model, {shown / n:.2f} pre-annotations/image "
            f"shown (conf >= {settings.ALWEB_PREANNOTATION_MIN_CONF}, at most "
            f"{settings.ALWEB_PREANNOTATION_MAX_PER_ITEM})"
        )
        return dt, detections["n"] / n

    # Break-down of the pipeline by function (wrappers add ~us per call).
    times: dict[str, float] = {}
    wrap(inference, "build_base", times, "model load (build_base)")
    wrap(inference, "_to_prediction", times, "result -> ImagePrediction")
    wrap(scoring.scores, "uncertainty", times, "uncertainty")
    wrap(scoring, "_pre_annotations", times, "pre-annotation rows")
    wrap(scoring, "run_heartbeat_or_stop", times, "heartbeats")
    wrap(scoring, "prioritise_project", times, "prioritise_project")
    wrap(scoring, "item_predictions_replace", times, "DB: item_predictions_replace")
    scoring._store_scores = counting_store
    wrap(scoring, "_store_scores", times, "_store_scores (scores + DB writes)")
    predictor = inference._predictor_classes()["detect"]
    wrap(predictor, "postprocess", times, "postprocess: NMS + class scores")
    wrap(BasePredictor, "setup_model", times, "predictor set-up (AutoBackend+fuse)")

    print(f"\nimages {n} of 320x240, imgsz {args.imgsz}, batch {b}, iou {iou}")
    for conf in confs:
        print(f"\n-- conf {conf} --")
        if not args.skip_plain:
            t_plain, boxes_plain = plain(conf)
            print(f"  [plain 1] {t_plain:.2f}s, {boxes_plain:.2f} boxes/image")
        times.clear()
        t_pipe, boxes_pipe = pipeline("pipeline", conf)
        breakdown = dict(times)
        ips_pipe = n / t_pipe
        print(f"pipeline scoring   : {t_pipe:.2f}s -> {ips_pipe:.1f} img/s")
        if not args.skip_plain:
            t_plain2, _ = plain(conf)  # again, to see drift on a busy machine
            print(f"  [plain 2] {t_plain2:.2f}s")
            t_ref = min(t_plain, t_plain2)
            ips_plain = n / t_ref
            print(
                f"plain YOLO.predict : {t_plain:.2f}s / {t_plain2:.2f}s (best used)"
                f" -> {ips_plain:.1f} img/s"
            )
            ratio = ips_pipe / ips_plain
            ok = "MET" if ratio >= TARGET_RATIO else "NOT MET"
            print(f"ratio pipeline/plain: {ratio:.3f} (target >= {TARGET_RATIO}: {ok})")
        ten_k = 1e4 / ips_pipe
        how = "measured" if n >= 10_000 else f"extrapolated from {n}"
        ok = "MET" if ten_k <= TARGET_10K_S else "NOT MET"
        print(
            f"10,000 images ({how}): {ten_k / 60:.1f} min "
            f"(target <= 6 min: {ok}); all {n}: {t_pipe / 60:.2f} min"
        )
        print("pipeline break-down (s, share of pipeline wall time):")
        for key, v in sorted(breakdown.items(), key=lambda kv: -kv[1]):
            print(f"  {key:36s} {v:7.2f}  {100 * v / t_pipe:5.1f}%")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        pipeline("cProfile", confs[-1])
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print("\n".join(out.getvalue().splitlines()[:45]))


if __name__ == "__main__":
    main()
