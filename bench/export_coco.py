"""COCO export of N ground-truth items with M shapes: wall time and peak RSS.

Seeds a fresh SQLite file database with bulk_create (items marked done with a
split, no image files: COCO needs none). Then a fresh child process (this
script with --child, started before the seeding so that it carries none of the
seeding's memory) sets Django up on that database and streams the export
through the API (GET /api/v1/projects/{id}/export/?format=coco, in-process
DRF client, with the sync limit raised so it streams in the response) into a
byte counter. Prints the seeding time, the export's time and size, the
child's peak RSS before the export (Django set up, the user and project read)
and its peak RSS over its whole life, read by the parent with
getrusage(RUSAGE_CHILDREN) after the child ended: the export's peak, without
the seeding.

Usage: .venv/bin/python bench/export_coco.py [--items 50000] [--shapes 500000]
       [--check]
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


from _common import setup_django  # noqa: E402


def child(items: int, check: bool) -> None:
    """The export alone, in a fresh process on the seeded database. It starts
    before the seeding and waits for its arguments on stdin: Linux carries a
    process's peak RSS over exec, so a child forked from the seeded parent
    would report the parent's size as its own."""
    import os

    var, project_id = sys.stdin.readline().split()
    project_id = int(project_id)
    os.environ["ALWEB_VAR_DIR"] = var
    os.environ.pop("ALWEB_SQLITE_PATH", None)
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from annotate.models import Project

    project = Project.objects.get(pk=project_id)
    owner = get_user_model().objects.get(username="bench-owner")
    settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = items + 1
    client = APIClient()
    client.force_authenticate(owner)
    before = rss_mb()
    t0 = time.perf_counter()
    response = client.get(f"/api/v1/projects/{project.pk}/export/", {"format": "coco"})
    assert response.status_code == 200, response.status_code
    size = 0
    out = open(Path(var) / "export.json", "wb") if check else None
    for chunk in response.streaming_content:
        size += len(chunk)
        if out:
            out.write(chunk)
    elapsed = time.perf_counter() - t0
    print(
        f"child: COCO export {elapsed:.1f} s, {size / 1e6:.0f} MB; child peak RSS "
        f"before the export {before:.0f} MB, after {rss_mb():.0f} MB"
    )
    if out:
        out.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shapes", type=int, default=500_000)
    parser.add_argument("--check", action="store_true", help="parse the output")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.items, args.check)
        return
    import subprocess

    cmd = [sys.executable, __file__, "--items", str(args.items), "--child"]
    started = subprocess.Popen(
        cmd + (["--check"] if args.check else []), stdin=subprocess.PIPE, text=True
    )
    var = setup_django("export")

    from annotate.models import Annotation, Item
    from annotate.services.projects import project_create
    from tests.factories import UserFactory, bare_item_rows

    owner = UserFactory(username="bench-owner")
    labels = ["car", "person", "dog", "cat"]
    project = project_create(
        owner=owner, name="bench", labels=labels, kinds=["box", "polygon"]
    )
    t0 = time.perf_counter()
    splits = ("train",) * 8 + ("val", "test")
    for start in range(0, args.items, 5000):
        Item.objects.bulk_create(
            bare_item_rows(
                project,
                min(5000, args.items - start),
                start=start,
                splits=splits,
                status="done",
            )
        )
    ids = list(Item.objects.filter(project=project).values_list("pk", flat=True))
    per_item = args.shapes // len(ids)
    rows = []
    for n, item_id in enumerate(ids):
        for k in range(per_item):
            x, y = 10 + k * 5, 20 + (n % 50)
            if k % 2:
                geometry = {"points": [[x, y], [x + 40, y], [x + 20, y + 30]]}
                kind, area = "polygon", 600.0
            else:
                geometry = {"bbox": [x, y, 50.5, 40.25]}
                kind, area = "box", 2032.625
            rows.append(
                Annotation(
                    item_id=item_id,
                    kind=kind,
                    label=labels[k % 4],
                    geometry=geometry,
                    area=area,
                )
            )
        if len(rows) >= 20000:
            Annotation.objects.bulk_create(rows)
            rows = []
    Annotation.objects.bulk_create(rows)
    print(
        f"seeded {len(ids)} items / {Annotation.objects.count()} shapes in "
        f"{time.perf_counter() - t0:.1f} s; RSS peak so far {rss_mb():.0f} MB"
    )

    # Set-up already ran small children (their peak is printed): the figure is
    # the largest of them all, which the export child is.
    earlier = rss_mb(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    started.communicate(f"{var} {project.pk}\n")
    assert started.returncode == 0, started.returncode
    wall = time.perf_counter() - t0
    print(
        f"export child process: {wall:.1f} s wall (Django set-up included); its "
        f"peak RSS (getrusage RUSAGE_CHILDREN): {rss_mb(resource.RUSAGE_CHILDREN):.0f}"
        f" MB (earlier children: {earlier:.0f} MB); this seeding process: "
        f"{rss_mb():.0f} MB"
    )
    if args.check:  # here, not in the child: parsing 78 MB would be its peak
        with open(Path(var) / "export.json") as fh:
            doc = json.load(fh)
        print(f"checked: {len(doc['images'])} images, {len(doc['annotations'])} shapes")


if __name__ == "__main__":
    main()
