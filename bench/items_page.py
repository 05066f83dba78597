"""Latency of the manager's items page (HTML) with 100,000 items in one project.

Seeds rows with bulk_create (no image files: the page only links thumbnails), then
times GET of the first, a middle and the last page, the filtered views (status,
split, file-name search, label, annotator) and one item's page, through Django's
test client. Prints p50 / p95 in milliseconds per view.

Usage: .venv/bin/python bench/items_page.py [--items 100000] [--repeat 20]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from _common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_django("items")
    from django.test import Client

    from annotate.models import Annotation, Item
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    project = project_create(owner=owner, name="bench", labels=["a"], kinds=["box"])
    statuses = ["unlabeled", "unlabeled", "unlabeled", "review", "done"]
    rows = [
        Item(
            project=project,
            file=f"items/x/{i}.png",
            image_format="PNG",
            width=64,
            height=64,
            checksum=f"{i:064x}",
            original_name=f"img_{i:06d}.png",
            last_annotator=owner if i % 5 >= 3 else None,
            status=statuses[i % 5],
            split="train" if i % 5 == 4 else None,
            priority=(i * 7919 % 1000) / 1000,
        )
        for i in range(args.items)
    ]
    Item.objects.bulk_create(rows, batch_size=5000)
    done = Item.objects.filter(project=project, status="done").values_list(
        "pk", flat=True
    )
    Annotation.objects.bulk_create(
        (
            Annotation(
                item_id=pk, kind="box", label="a", geometry={"bbox": [1, 1, 9, 9]}
            )
            for pk in done
        ),
        batch_size=5000,
    )
    item_id = done[len(done) // 2]
    client = Client()
    client.force_login(owner)
    base = f"/projects/{project.pk}/items/"
    last = args.items // 48 + 1
    views = {
        "first page": base,
        "middle page": f"{base}?page={last // 2}",
        "last page": f"{base}?page={last}",
        "status=review": f"{base}?status=review",
        "split=train, by date": f"{base}?split=train&ordering=created",
        "name search": f"{base}?q=01234",
        "label=a": f"{base}?label=a",
        "annotator, review": f"{base}?annotator={owner.pk}&status=review",
        "item page": f"{base}{item_id}/",
    }
    for name, url in views.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{name:24s} p50={statistics.median(times):7.1f} ms  p95={p95:7.1f} ms")


if __name__ == "__main__":
    main()
