"""YOLO and Pascal VOC export and import of N items with M shapes (issue 13):
wall time, CPU time and peak RSS of each, each in its own fresh process.

The parent seeds what bench/import_coco.py seeds (N items, a COCO file of M
boxes and triangles), writes a tiny image file per item (the exports copy each
item's file into the zip and leave out items without one) and imports the
COCO file as ground truth. Then four children, all started before the seeding
(Linux carries a process's peak RSS over exec), each set Django up and run one
step: yolo_write, the YOLO zip's import (file_import, format yolo, ground
truth, split keep), voc_write, the VOC zip's import. Each prints its own
figures; an import must bring back M shapes for YOLO, and for VOC (boxes
only) one box per shape.

Usage: .venv/bin/python bench/io_datasets.py [--items 50000] [--shapes 500000]
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STEPS = ("yolo_export", "yolo_import", "voc_export", "voc_import")
# A valid 1x1 PNG: the exports copy bytes, they do not decode.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str) -> None:
    """One step in a fresh process; its arguments come on stdin."""
    line = sys.stdin.readline().split()
    var, project_id, shapes = line[0], int(line[1]), int(line[2])
    os.environ["ALWEB_VAR_DIR"] = var
    os.environ.pop("ALWEB_SQLITE_PATH", None)
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["ALWEB_Q_SYNC"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from annotate.models import Annotation, Project
    from annotate.services.exports import yolo_write
    from annotate.services.exports_voc import voc_write
    from annotate.services.imports_zip import file_import

    project = Project.objects.get(pk=project_id)
    owner = get_user_model().objects.get(username="bench-owner")
    fmt, what = name.split("_")
    path = Path(var) / f"export.{fmt}.zip"
    before = rss_mb()
    t0, cpu0 = time.perf_counter(), time.process_time()
    if what == "export":
        with open(path, "wb") as fh:
            count = (yolo_write if fmt == "yolo" else voc_write)(
                project=project, fileobj=fh
            )
        detail = f"{count} images, {path.stat().st_size / 1e6:.0f} MB zip"
    else:
        with open(path, "rb") as fh:
            result = file_import(
                project=project, fmt=fmt, handle=fh, as_="ground_truth", actor=owner
            )
        assert result["annotations"] == Annotation.objects.count() == shapes, result
        detail = f"{result['items']} items, {result['annotations']} shapes"
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        f"{fmt.upper()} {what}: {detail} in {elapsed:.1f} s (CPU {cpu:.1f} s), "
        f"peak RSS {rss_mb():.0f} MB (before {before:.0f} MB)",
        flush=True,
    )


def seed(items: int, shapes: int) -> tuple[Path, int, int]:
    import import_coco

    path, n, project_id = import_coco.seed(items, shapes)
    from django.conf import settings

    from annotate.models import Project

    project = Project.objects.get(pk=project_id)
    folder = Path(settings.MEDIA_ROOT) / "items" / str(project.pk)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(items):
        (folder / f"{i}.png").write_bytes(PNG)
    t0 = time.perf_counter()
    import_coco.run_import(path, n, project_id, None)
    print(f"seeding import: {time.perf_counter() - t0:.1f} s", flush=True)
    return path.parent, project_id, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shapes", type=int, default=500_000)
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=("yolo", "voc"), help="one format's export and import"
    )
    args = parser.parse_args()
    if args.step:
        step(args.step)
        return
    sys.path.insert(0, str(REPO / "bench"))
    steps = [s for s in STEPS if not args.only or s.startswith(args.only)]
    children = {
        s: subprocess.Popen(
            [sys.executable, __file__, "--step", s], stdin=subprocess.PIPE, text=True
        )
        for s in steps
    }
    var, project_id, shapes = seed(args.items, args.shapes)
    for name in steps:
        # VOC keeps boxes: each triangle comes back as its box, one shape each.
        children[name].communicate(f"{var} {project_id} {shapes}\n")
        assert children[name].returncode == 0, (name, children[name].returncode)


if __name__ == "__main__":
    main()
