"""Similar-item search in the app: ``item_similar`` over N unlabelled items.

Seeds a fresh SQLite project with ``seed_large --items N``, gives every
unlabelled item a 256-d embedding (seeded Gaussian, rounded to 5 decimals as
scoring stores them), then runs one-item and 20-item bucket queries (k=50)
--repeat times and prints the wall time of each, split into the read of the
pool (``pool_index``: JSON decode into a float32 matrix) and the rest, and
the peak of Python/numpy memory (tracemalloc) during one query.

Usage: .venv/bin/python bench/similar_items.py [--items 20000] [--repeat 3]
*Leaves out*: PostgreSQL, the page's rendering.
"""

import argparse
import json
import random
import time
import tracemalloc

from _common import header, setup_django, timer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    setup_django("similar")
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotate import selectors_mining
    from annotate.models import Item, ItemStatus, Project

    header("similar items")
    t0 = time.perf_counter()
    call_command("seed_large", items=args.items, verbosity=0)
    project = Project.objects.get()
    ids = list(Item.objects.filter(project=project).values_list("pk", flat=True))
    rng = random.Random(0)
    rows = [
        (json.dumps([round(rng.gauss(0, 1), 5) for _ in range(256)]), pk) for pk in ids
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany("UPDATE annotate_item SET embedding = %s WHERE id = %s", rows)
    pool = Item.objects.filter(project=project, status=ItemStatus.UNLABELED).count()
    print(f"seeded {args.items} items ({pool} unlabelled, all embedded) "
          f"in {time.perf_counter() - t0:.1f}s")  # fmt: skip

    times: dict[str, float] = {}
    index = selectors_mining.pool_index

    def timed(*a, **kw):
        with timer(times, "pool read"):
            return index(*a, **kw)

    selectors_mining.pool_index = timed
    done = list(
        Item.objects.filter(project=project, status=ItemStatus.DONE).values_list(
            "pk", flat=True
        )[:20]
    )
    for label, query in (("1 item", done[:1]), ("bucket of 20", done)):
        for r in range(args.repeat):
            times.clear()
            tracemalloc.start()
            w0 = time.perf_counter()
            found = selectors_mining.item_similar(project=project, item_ids=query, k=50)
            wall = time.perf_counter() - w0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            read = times["pool read"]
            print(f"[{label} {r + 1}] {len(found)} found in {wall:.2f}s "
                  f"(pool read {read:.2f}s, rest {wall - read:.3f}s), "
                  f"peak {peak:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
