"""COCO import of N items with M shapes (issue 13): wall time and peak RSS.

Seeds a fresh SQLite file database with N items (bulk_create, no image files:
the import reads none) and writes a COCO file of M boxes and triangles for
them. Then a fresh child process (this script with --child, started before
the seeding: see child()) sets Django up on that database and runs
annotate.services.imports_zip.file_import on the file as ground truth (split
keep), the path the API and the data page take. It prints the import's wall
and CPU time and its peak RSS before and after; the parent prints the child's
peak from getrusage(RUSAGE_CHILDREN). With --same-process the import runs in
the seeding process instead (as this bench did before 2026-12-01: its peak
then includes the seeding). --profile PATH writes a cProfile of the import.

Usage: .venv/bin/python bench/import_coco.py [--items 50000] [--shapes 500000]
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import seed_bare_items  # noqa: E402

LABELS = ["car", "person", "dog", "cat"]


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def seed(items: int, shapes: int) -> tuple[Path, int, int]:
    """The database with `items` items and the COCO file; (file, shapes, project)."""
    var, project = seed_bare_items("import", items, LABELS)
    per_item = shapes // items
    splits = ["train"] * 8 + ["val", "test"]
    path = Path(var) / "import.json"
    with open(path, "w") as fh:
        images = [
            {"id": i + 1, "file_name": f"img_{i}.png", "split": splits[i % 10]}
            for i in range(items)
        ]
        fh.write('{"categories": ')
        fh.write(json.dumps([{"id": k + 1, "name": n} for k, n in enumerate(LABELS)]))
        fh.write(', "images": ' + json.dumps(images) + ', "annotations": [')
        del images
        n = 0
        for i in range(items):
            for k in range(per_item):
                x, y = 10 + k * 5, 20 + (i % 50)
                ann = {"id": n + 1, "image_id": i + 1, "category_id": k % 4 + 1}
                if k % 2:
                    ann["segmentation"] = [[x, y, x + 40, y, x + 20, y + 30]]
                    ann["bbox"] = [x, y, 40, 30]
                else:
                    ann["bbox"] = [x, y, 50.5, 40.25]
                fh.write(("," if n else "") + json.dumps(ann))
                n += 1
        fh.write("]}")
    return path, n, project.pk


def run_import(path: Path, shapes: int, project_id: int, profile_to: str | None):
    from django.contrib.auth import get_user_model

    from annotate.models import Annotation, Project
    from annotate.services.imports_zip import file_import

    project = Project.objects.get(pk=project_id)
    owner = get_user_model().objects.get(username="bench-owner")
    items = project.items.count()
    size = path.stat().st_size
    before = rss_mb()
    profile = None
    if profile_to:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with open(path, "rb") as fh:
        result = file_import(
            project=project, fmt="coco", handle=fh, as_="ground_truth", actor=owner
        )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if profile:
        profile.disable()
        profile.dump_stats(profile_to)
    assert result["annotations"] == Annotation.objects.count() == shapes, result
    print(
        f"COCO import: {items} items / {shapes} shapes ({size / 1e6:.0f} MB) in "
        f"{elapsed:.1f} s (CPU {cpu:.1f} s), peak RSS {rss_mb():.0f} MB "
        f"(before import {before:.0f} MB)"
    )


def child(profile_to) -> None:
    """The import alone, in a fresh process on the seeded database. It starts
    before the seeding and waits for its arguments on stdin: Linux carries a
    process's peak RSS over exec, so a child forked from the seeded parent
    would report the parent's size as its own."""
    var, path, shapes, project_id = sys.stdin.readline().split()
    os.environ["ALWEB_VAR_DIR"] = var
    os.environ.pop("ALWEB_SQLITE_PATH", None)
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["ALWEB_Q_SYNC"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    import django

    django.setup()
    run_import(Path(path), int(shapes), int(project_id), profile_to)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shapes", type=int, default=500_000)
    parser.add_argument(
        "--profile", metavar="PATH", help="write a cProfile of the import to PATH"
    )
    parser.add_argument(
        "--same-process", action="store_true", help="import in the seeding process"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.profile)
        return
    if args.same_process:
        run_import(*seed(args.items, args.shapes), args.profile)
        return
    import subprocess

    cmd = [sys.executable, __file__, "--child"]
    cmd += ["--profile", args.profile] if args.profile else []
    started = subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True)
    path, shapes, project_id = seed(args.items, args.shapes)
    t0 = time.perf_counter()
    started.communicate(f"{path.parent} {path} {shapes} {project_id}\n")
    assert started.returncode == 0, started.returncode
    print(
        f"import child process: {time.perf_counter() - t0:.1f} s wall (Django "
        f"set-up included); its peak RSS (getrusage RUSAGE_CHILDREN): "
        f"{rss_mb(resource.RUSAGE_CHILDREN):.0f} MB; this seeding process: "
        f"{rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
