"""COCO import of N items with M shapes (issue 13): wall time and peak RSS.

Seeds a fresh SQLite file database with N items (bulk_create, no image files:
the import reads none), writes a COCO file of M boxes and triangles for them,
then runs annotate.services.imports_zip.file_import on that file as ground
truth (split keep), the path the API and the data page take. Prints time and
peak RSS (ru_maxrss) before and after the import.

Usage: .venv/bin/python bench/import_coco.py [--items 50000] [--shapes 500000]
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import setup_django  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shapes", type=int, default=500_000)
    parser.add_argument(
        "--profile", metavar="PATH", help="write a cProfile of the import to PATH"
    )
    args = parser.parse_args()

    var = setup_django("import")
    from django.utils import timezone

    from annotate.models import Annotation, Item
    from annotate.services.imports_zip import file_import
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    labels = ["car", "person", "dog", "cat"]
    project = project_create(
        owner=owner, name="bench", labels=labels, kinds=["box", "polygon"]
    )
    now = timezone.now()
    rows = [
        Item(
            project=project,
            file=f"items/{project.pk}/{i}.png",
            original_name=f"img_{i}.png",
            image_format="PNG",
            width=640,
            height=480,
            checksum=f"{i:064x}",
            created_at=now,
        )
        for i in range(args.items)
    ]
    Item.objects.bulk_create(rows, batch_size=5000)
    del rows
    per_item = args.shapes // args.items
    splits = ["train"] * 8 + ["val", "test"]
    path = Path(var) / "import.json"
    with open(path, "w") as fh:
        images = [
            {"id": i + 1, "file_name": f"img_{i}.png", "split": splits[i % 10]}
            for i in range(args.items)
        ]
        fh.write('{"categories": ')
        fh.write(json.dumps([{"id": k + 1, "name": n} for k, n in enumerate(labels)]))
        fh.write(', "images": ' + json.dumps(images) + ', "annotations": [')
        n = 0
        for i in range(args.items):
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
    size = path.stat().st_size
    before = rss_mb()
    profile = None
    if args.profile:
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
        profile.dump_stats(args.profile)
    assert result["annotations"] == Annotation.objects.count() == n, result
    print(
        f"COCO import: {args.items} items / {n} shapes ({size / 1e6:.0f} MB) in "
        f"{elapsed:.1f} s (CPU {cpu:.1f} s), peak RSS {rss_mb():.0f} MB "
        f"(before import {before:.0f} MB)"
    )


if __name__ == "__main__":
    main()
