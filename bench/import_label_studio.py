"""Label Studio import of N tasks with M regions (issue 13): wall time, CPU
time and peak RSS, the JSON export and the zip of it with images, each in its
own fresh process.

The parent seeds a fresh SQLite file database with N items (bulk_create, as
bench/import_coco.py does) and writes Label Studio's JSON export of N tasks
(one per item, uploaded-image URLs "/data/upload/3/<8 hex>-img_<i>.png"),
each with one annotation of M / N regions: rectangles and triangles in
percent of 640x480, in Label Studio's export layout (original_width /
original_height, value, id, from_name, to_name, type, origin) and its task
fields (id, data, annotations with completed_by, created_at, lead_time, ...).
Then the zip form: that export beside media/upload/3/<8 hex>-img_<i>.png, a
1x1 PNG each (the items already exist, matched by name, so no image is read
or created). Two children, started before the seeding (Linux carries a
process's peak RSS over exec), each set Django up and run
annotate.services.imports_zip.file_import (format label_studio, ground truth,
split keep) on one of them, printing its own figures; each must bring back M
shapes. The export is larger than the default 100 MB import cap
(ALWEB_MAX_IMPORT_BYTES), which the zip form checks against its JSON member,
and the zip has more members than the upload's 10,000
(ALWEB_MAX_ZIP_ENTRIES): the children raise both (1 GiB, 2**20).

Usage: .venv/bin/python bench/import_label_studio.py [--items 50000]
    [--shapes 500000] [--only json|zip]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import seed_bare_items  # noqa: E402

LABELS = ["car", "person", "dog", "cat"]
STEPS = ("json", "zip")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
STAMP = "2026-12-01T10:00:00.000000Z"


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _region(i: int, k: int) -> dict:
    x, y = 1 + k * 2, 1 + (i % 50)  # percent
    common = {"original_width": 640, "original_height": 480, "image_rotation": 0}
    label = LABELS[k % 4]
    if k % 2:
        value = {
            "points": [[x, y], [x + 6, y], [x + 3, y + 6]],
            "closed": True,
            "polygonlabels": [label],
        }
        kind = "polygonlabels"
    else:
        value = {
            "x": x,
            "y": y,
            "width": 7.5,
            "height": 8.25,
            "rotation": 0,
            "rectanglelabels": [label],
        }
        kind = "rectanglelabels"
    return {
        **common,
        "value": value,
        "id": f"{i:06x}{k:04x}",
        "from_name": "label",
        "to_name": "image",
        "type": kind,
        "origin": "manual",
    }


def _task(i: int, per_item: int) -> dict:
    return {
        "id": i + 1,
        "annotations": [
            {
                "id": i + 1,
                "completed_by": 1,
                "result": [_region(i, k) for k in range(per_item)],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": STAMP,
                "updated_at": STAMP,
                "lead_time": 12.5,
                "task": i + 1,
                "project": 3,
            }
        ],
        "predictions": [],
        "data": {"image": f"/data/upload/3/{i:08x}-img_{i}.png"},
        "meta": {},
        "created_at": STAMP,
        "updated_at": STAMP,
        "project": 3,
    }


def seed(items: int, shapes: int) -> tuple[Path, int, int]:
    """The items, the export and its zip; (var folder, shapes, project id)."""
    var, project = seed_bare_items("import_ls", items, LABELS)
    per_item = shapes // items
    path = Path(var) / "ls.json"
    with open(path, "w") as fh:
        fh.write("[")
        for i in range(items):
            text = json.dumps(_task(i, per_item), separators=(",", ":"))
            fh.write(("," if i else "") + text)
        fh.write("]")
    with zipfile.ZipFile(Path(var) / "ls.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "project-3-at-2026-12-01.json")
        for i in range(items):
            zf.writestr(f"media/upload/3/{i:08x}-img_{i}.png", PNG)
    return Path(var), per_item * items, project.pk


def step(name: str) -> None:
    """One import in a fresh process; its arguments come on stdin."""
    var, shapes, project_id = sys.stdin.readline().split()
    os.environ["ALWEB_VAR_DIR"] = var
    os.environ.pop("ALWEB_SQLITE_PATH", None)
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["ALWEB_Q_SYNC"] = "1"
    os.environ["ALWEB_MAX_IMPORT_BYTES"] = str(1 << 30)
    os.environ["ALWEB_MAX_ZIP_ENTRIES"] = str(1 << 20)
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from annotate.models import Annotation, Project
    from annotate.services.imports_zip import file_import

    project = Project.objects.get(pk=project_id)
    owner = get_user_model().objects.get(username="bench-owner")
    path = Path(var) / ("ls.json" if name == "json" else "ls.zip")
    before = rss_mb()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with open(path, "rb") as fh:
        result = file_import(
            project=project,
            fmt="label_studio",
            handle=fh,
            as_="ground_truth",
            actor=owner,
        )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert result["annotations"] == Annotation.objects.count() == int(shapes), result
    print(
        f"Label Studio {name} import: {result['items']} tasks / "
        f"{result['annotations']} regions ({path.stat().st_size / 1e6:.0f} MB, "
        f"{result.get('items_created', 0)} items created) in {elapsed:.1f} s "
        f"(CPU {cpu:.1f} s), peak RSS {rss_mb():.0f} MB (before {before:.0f} MB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shapes", type=int, default=500_000)
    parser.add_argument("--only", choices=STEPS, help="one form only")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step(args.step)
        return
    steps = [s for s in STEPS if not args.only or s == args.only]
    children = {
        s: subprocess.Popen(
            [sys.executable, __file__, "--step", s], stdin=subprocess.PIPE, text=True
        )
        for s in steps
    }
    t0 = time.perf_counter()
    var, shapes, project_id = seed(args.items, args.shapes)
    print(f"seeding: {time.perf_counter() - t0:.1f} s", flush=True)
    for name in steps:
        children[name].communicate(f"{var} {shapes} {project_id}\n")
        assert children[name].returncode == 0, (name, children[name].returncode)


if __name__ == "__main__":
    main()
