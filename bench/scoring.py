"""Scoring throughput: alweb's pipeline against plain ``YOLO.predict``.

Builds a fresh project (temporary SQLite + media) with --gt ground-truth demo
images (``annotate.demo_data.synthetic_image``, 320x240, 1-3 circles,
rectangles and triangles), trains the first version through training_start
(sync mode; default model config: yolov8n from scratch, imgsz 320, "auto"
epochs, as the demo's first model; it is promoted to best), and prints its
test-split mAP50. Then adds --compare unlabelled demo images (other seeds)
and, for each --conf, times on the same images, imgsz and conf:

(a) plain: ``YOLO(best.pt).predict(chunk, stream=True, batch=B)`` per chunk of
    B paths, every result consumed (its boxes counted);
(b) pipeline: ``scoring_request`` run inline (django-q2 sync): the real
    models_mgmt scoring service: one prediction stream per page with class
    scores and embeddings, uncertainty, pre-annotation rows, the DB writes
    (item_predictions_replace), heartbeats and prioritise_project.

Each is warmed up once (one chunk) before each timed run. --rounds R runs
plain and the pipeline alternately R times, then plain once more (plain
brackets every pipeline run); the ratio is best run against best run (the
median ratio is printed too), by wall time and by this process's CPU time
(the machine is shared). The conf is set on the best version's stored config
between runs (the scoring service reads it from there). Prints the mean boxes
per image kept at each conf (from both paths), images/s, the ratio (target
>= 0.9) and where the pipeline's time goes.

Then, when --images is larger than --compare (or with --skip-plain), adds the
other items and runs the pipeline alone over all --images for each conf: with
--images 10000 that is the real 10k figure (target <= 6 min); otherwise it is
scaled linearly and says so. --open-gate promotes any first version (for
quick trial runs with --epochs 1).

Usage: .venv/bin/python bench/scoring.py [--images 500] [--compare 500]
       [--gt 100] [--epochs auto] [--conf 0.05 --conf 0.001] [--rounds 3]
       [--imgsz 320] [--batch 16] [--skip-plain] [--open-gate] [--threads 0]
       [--profile]
The issue-8 figures: --images 10000 --compare 500 --rounds 3
"""

import argparse
import cProfile
import functools
import io
import pstats
import statistics
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
    ap.add_argument("--images", type=int, default=500, help="scored for real")
    ap.add_argument(
        "--compare", type=int, default=500, help="images of the side-by-side runs"
    )
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--gt", type=int, default=100, help="ground-truth images")
    ap.add_argument("--epochs", default="auto", help="first version's epochs")
    ap.add_argument(
        "--conf", type=float, action="append", help="scoring conf (repeatable)"
    )
    ap.add_argument("--rounds", type=int, default=3, help="runs of each, alternated")
    ap.add_argument("--skip-plain", action="store_true", help="time the pipeline only")
    ap.add_argument(
        "--open-gate",
        action="store_true",
        help="promote any first version (quick trial runs with a useless model)",
    )
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
    if args.open_gate:
        from models_mgmt.services.pipeline import pipeline_update

        gate = {"min_score": 0.0, "min_test_items": 1}
        pipeline_update(project=project, actor=owner, data={"comparison_config": gate})
    t0 = time.perf_counter()
    add_ground_truth(project, owner, args.gt, start_seed=100_000)
    training_start(project=project, actor=owner)  # sync: trains, promotes
    model = best_model(project=project)
    assert model is not None, "training did not produce a best model"
    t1 = time.perf_counter()
    m = model.metrics or {}
    print(
        f"set-up: first version ({model.epochs} epochs on {args.gt} GT, imgsz "
        f"{args.imgsz}) {t1 - t0:.1f}s: test mAP50 {m.get('map50', 0):.3f}, "
        f"mAP50-95 {m.get('map50_95', 0):.3f}"
    )
    weights, iou = model.weights.path, model.config["iou"]
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED)
    b = args.batch

    def pool_paths() -> list[str]:
        return [it.file.path for it in pool.order_by("id")]

    def plain(conf: float, paths: list[str]) -> tuple[float, float, float]:
        """Wall s, CPU s (this process) for all paths, mean boxes per image."""
        opts = dict(imgsz=args.imgsz, conf=conf, iou=iou, device="cpu", verbose=False)
        yolo = YOLO(weights)
        for _ in yolo.predict(paths[:b], stream=True, batch=b, **opts):  # warm-up
            pass
        t0, c0, count, boxes = time.perf_counter(), time.process_time(), 0, 0
        for s in range(0, len(paths), b):
            for r in yolo.predict(paths[s : s + b], stream=True, batch=b, **opts):
                count += 1
                boxes += len(r.boxes)
        assert count == len(paths)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return wall, cpu, boxes / count

    detections = {"n": 0}
    store = scoring._store_scores

    def counting_store(project, model, items, predictions, *rest):
        detections["n"] += sum(len(p[0].detections) for p in predictions)
        return store(project, model, items, predictions, *rest)

    def pipeline(label: str, conf: float, paths) -> tuple[float, float, float]:
        """Wall s, CPU s (this process) of scoring_request, boxes per image."""
        n = len(paths)
        ModelVersion.objects.filter(pk=model.pk).update(
            config={**model.config, "conf": conf}
        )
        pool.update(scored_by=None, uncertainty=None, embedding=None)
        list(backend.score_images(weights, paths[:b], imgsz=args.imgsz, conf=conf))
        Annotation.objects.filter(item__project=project, source="model").delete()
        detections["n"] = 0
        t0, c0 = time.perf_counter(), time.process_time()
        scoring.scoring_request(project=project)  # runs inline (sync)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        job = Job.objects.filter(project=project, kind="score").latest("id")
        assert job.status == "succeeded", job.error
        assert job.result["scored"] == n, job.result
        shown = Annotation.objects.filter(item__project=project, source="model").count()
        print(
            f"  [{label}] scored {n} in {wall:.2f}s (CPU {cpu:.2f}s): "
            f"{detections['n'] / n:.2f} boxes/image kept by the model, "
            f"{shown / n:.2f} pre-annotations/image shown (conf >= "
            f"{settings.ALWEB_PREANNOTATION_MIN_CONF}, at most "
            f"{settings.ALWEB_PREANNOTATION_MAX_PER_ITEM})"
        )
        return wall, cpu, detections["n"] / n

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

    def show_breakdown(t_pipe: float, breakdown: dict) -> None:
        print("pipeline break-down (wall s, share of its wall time):")
        for key, v in sorted(breakdown.items(), key=lambda kv: -kv[1]):
            print(f"  {key:36s} {v:7.2f}  {100 * v / t_pipe:5.1f}%")

    def ratio_line(what: str, plains: list[float], pipes: list[float]) -> None:
        best = min(plains) / min(pipes)
        med = statistics.median(plains) / statistics.median(pipes)
        ok = "MET" if best >= TARGET_RATIO else "NOT MET"
        print(
            f"ratio pipeline/plain by {what}: best against best {best:.3f} "
            f"(target >= {TARGET_RATIO}: {ok}), median against median {med:.3f}"
        )

    def side_by_side(conf: float) -> None:
        paths = pool_paths()
        print(f"\n-- side by side, {len(paths)} images, conf {conf}: {args.rounds} "
              f"round(s), plain first and last --")  # fmt: skip
        plains, pipes, breakdowns = [], [], []
        for r in range(args.rounds):
            wall, cpu, boxes = plain(conf, paths)
            plains.append((wall, cpu))
            print(f"  [plain {r + 1}] {wall:.2f}s (CPU {cpu:.2f}s), "
                  f"{boxes:.2f} boxes/image")  # fmt: skip
            times.clear()
            wall, cpu, _ = pipeline(f"pipeline {r + 1}", conf, paths)
            pipes.append((wall, cpu))
            breakdowns.append(dict(times))
        wall, cpu, _ = plain(conf, paths)
        plains.append((wall, cpu))
        print(f"  [plain {args.rounds + 1}] {wall:.2f}s (CPU {cpu:.2f}s)")
        n = len(paths)
        for label, runs in (("plain YOLO.predict", plains), ("pipeline", pipes)):
            walls = " / ".join(f"{w:.2f}" for w, _ in runs)
            best = min(w for w, _ in runs)
            print(f"{label:19s}: wall {walls}s -> best {n / best:.1f} img/s")
        ratio_line("wall time", [w for w, _ in plains], [w for w, _ in pipes])
        ratio_line("CPU time", [c for _, c in plains], [c for _, c in pipes])
        best = min(range(len(pipes)), key=lambda i: pipes[i][0])
        show_breakdown(pipes[best][0], breakdowns[best])

    compare = min(args.compare, args.images)
    add_items(project, compare)
    print(f"{compare} unlabelled 320x240 items added {time.perf_counter() - t1:.1f}s")
    print(f"\nimgsz {args.imgsz}, batch {b}, iou {iou}")
    if not args.skip_plain:
        for conf in confs:
            side_by_side(conf)
    if args.images > compare:
        t2 = time.perf_counter()
        add_items(project, args.images - compare, start_seed=compare)
        print(f"\n{args.images - compare} more items added "
              f"{time.perf_counter() - t2:.1f}s")  # fmt: skip
    if args.images > compare or args.skip_plain:
        paths = pool_paths()
        for conf in confs:
            print(f"\n-- the pipeline alone on all {len(paths)} images, conf {conf} --")
            times.clear()
            wall, cpu, _ = pipeline("pipeline", conf, paths)
            ten_k = 1e4 * wall / len(paths)
            how = "measured" if len(paths) == 10_000 else "scaled linearly"
            ok = "MET" if ten_k <= TARGET_10K_S else "NOT MET"
            print(
                f"{len(paths)} images in {wall / 60:.2f} min (CPU {cpu / 60:.2f} min)"
                f"; 10,000 images ({how}): {ten_k / 60:.2f} min (target <= 6 min: "
                f"{ok})"
            )
            show_breakdown(wall, dict(times))

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        pipeline("cProfile", confs[-1], pool_paths())
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print("\n".join(out.getvalue().splitlines()[:45]))


if __name__ == "__main__":
    main()
