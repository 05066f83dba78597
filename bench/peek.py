"""Latency of the read-only look-ahead, GET /api/v1/projects/{id}/tasks/peek/,
with 100,000 items queued, next to the claim it predicts.

Seeds like bench/claim_next.py (bulk_create, no image files: neither call reads
them), then for each of C rounds a user who holds a task peeks (timed), submits
the task (service, untimed) and claims (timed); it counts how often the claim
got the peeked item. The last 50 items carry 10 model pre-annotations each, in
the queue's first places, so the peek also serialises annotations.

Usage: .venv/bin/python bench/peek.py [--items 100000] [--rounds 300]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import setup_django  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, int(q * len(xs)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()

    setup_django("peek")
    from django.test import Client
    from django.utils import timezone

    from alweb.roles import Role
    from annotate.models import Annotation, Item, Membership, Task
    from annotate.services.labeling import task_submit
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    project = project_create(
        owner=owner, name="bench", labels=["a", "b", "c"], kinds=["box", "polygon"]
    )
    now = timezone.now()
    batch = []
    for i in range(args.items):
        top = i >= args.items - 50
        batch.append(
            Item(
                project=project,
                file=f"items/{project.pk}/{i}.png",
                image_format="PNG",
                width=640,
                height=480,
                checksum=f"{i:064x}",
                priority=2.0 if top else ((i * 7919) % 100_003) / 100_003,
                created_at=now,
            )
        )
        if len(batch) == 5000:
            Item.objects.bulk_create(batch)
            batch = []
    Item.objects.bulk_create(batch)
    top_items = Item.objects.filter(project=project, priority=2.0)
    Annotation.objects.bulk_create(
        Annotation(
            item=item,
            kind="box",
            label="a",
            geometry={"bbox": [10 + k, 10, 50, 40]},
            source="model",
            model_version_id=1,
            confidence=0.5,
        )
        for item in top_items
        for k in range(10)
    )
    clients = []
    for i in range(args.users):
        user = UserFactory(username=f"bench-ann{i}")
        Membership.objects.create(project=project, user=user, role=Role.ANNOTATOR)
        c = Client()
        c.force_login(user)
        clients.append(c)
    base = f"/api/v1/projects/{project.pk}/tasks"
    held = {}
    for i, c in enumerate(clients):  # everyone holds a task, as while labelling
        held[i] = c.post(
            f"{base}/next/", {"kind": "label"}, content_type="application/json"
        ).json()["id"]
    peeks, claims, hits = [], [], 0
    for n in range(args.rounds):
        i = n % len(clients)
        c = clients[i]
        start = time.perf_counter()
        res = c.get(f"{base}/peek/", {"kind": "label"})
        peeks.append((time.perf_counter() - start) * 1000)
        assert res.status_code == 200, res.status_code
        peeked = res.json()["item"]["id"]
        task = Task.objects.select_related("item__project").get(pk=held[i])
        task_submit(task=task, shapes=[])
        start = time.perf_counter()
        res = c.post(
            f"{base}/next/", {"kind": "label"}, content_type="application/json"
        )
        claims.append((time.perf_counter() - start) * 1000)
        held[i] = res.json()["id"]
        hits += res.json()["item"]["id"] == peeked
    for name, xs in [("peek", peeks), ("claim", claims)]:
        print(
            f"{name}: n={len(xs)} items={args.items} "
            f"p50={statistics.median(xs):.2f} ms p95={pct(xs, 0.95):.2f} ms "
            f"max={max(xs):.2f} ms"
        )
    print(
        f"the claim got the peeked item {hits}/{args.rounds} times "
        f"({args.users} annotators taking turns, each holding a task)"
    )


if __name__ == "__main__":
    main()
