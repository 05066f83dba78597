"""Latency of POST /api/v1/projects/{id}/tasks/next/ with 100,000 items queued.

Builds a fresh SQLite file database in a temporary directory (WAL, IMMEDIATE, as
configured), seeds one project with N items by bulk_create (no image files: a
claim never reads them), then times C claims through the API with Django's
test client (session auth) by a pool of annotators. After each claim the task is
submitted through the service (untimed), so the queue keeps moving as in real
use. Prints p50 / p95 / max in milliseconds.

Usage: .venv/bin/python bench/claim_next.py [--items 100000] [--claims 500]
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
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()

    setup_django("claim")
    from django.test import Client
    from django.utils import timezone

    from alweb.roles import Role
    from annotate.models import Item, Membership, Task
    from annotate.services.labeling import task_submit
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    project = project_create(
        owner=owner, name="bench", labels=["a", "b", "c"], kinds=["box", "polygon"]
    )
    t0 = time.perf_counter()
    now = timezone.now()
    batch = []
    for i in range(args.items):
        batch.append(
            Item(
                project=project,
                file=f"items/{project.pk}/{i}.png",
                image_format="PNG",
                width=640,
                height=480,
                checksum=f"{i:064x}",
                priority=((i * 7919) % 100_003) / 100_003,
                created_at=now,
            )
        )
        if len(batch) == 5000:
            Item.objects.bulk_create(batch)
            batch = []
    Item.objects.bulk_create(batch)
    print(f"seeded {args.items} items in {time.perf_counter() - t0:.1f} s")

    users = []
    for i in range(args.users):
        user = UserFactory(username=f"bench-ann{i}")
        Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
        users.append(user)
    clients = []
    for user in users:
        c = Client()
        c.force_login(user)
        clients.append(c)
    url = f"/api/v1/projects/{project.pk}/tasks/next/"
    timings = []
    for n in range(args.claims):
        c = clients[n % len(clients)]
        start = time.perf_counter()
        res = c.post(url, {"kind": "label"}, content_type="application/json")
        timings.append((time.perf_counter() - start) * 1000)
        assert res.status_code == 200, (res.status_code, res.content[:200])
        task = Task.objects.select_related("item__project").get(pk=res.json()["id"])
        task_submit(task=task, shapes=[])
    timings.sort()
    p95 = timings[int(0.95 * len(timings)) - 1]
    print(
        f"claims={args.claims} items={args.items} "
        f"p50={statistics.median(timings):.2f} ms p95={p95:.2f} ms "
        f"max={timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
