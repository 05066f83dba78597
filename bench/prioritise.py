"""Queue prioritisation at scale: ``prioritise_project`` over N unlabelled items.

Seeds a fresh SQLite project with ``seed_large --items N`` (its unlabelled items
carry an uncertainty, and a best model exists), gives every unlabelled item a
256-d embedding (seeded random unit-ish vectors, as the detector's pooled
features would be) and a rare-class component, then runs the project's default
strategy (hybrid, rare_boost 1.0) through ``prioritise_project`` --repeat
times and prints each wall and CPU time, split into the read of the scores,
the selection (ml.selection.select) and the write of the priorities.

Usage: .venv/bin/python bench/prioritise.py [--items 10000] [--repeat 3]
*Leaves out*: the scoring that produces the scores (bench/scoring.py), other
strategies, PostgreSQL.
"""

import argparse
import json
import random
import time

from _common import header, setup_django, timer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    setup_django("prioritise")
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotate.models import Item, ItemStatus, Project
    from models_mgmt.services import scoring

    header("queue prioritisation")
    t0 = time.perf_counter()
    call_command("seed_large", items=args.items, verbosity=0)
    project = Project.objects.get()
    ids = list(
        Item.objects.filter(project=project, status=ItemStatus.UNLABELED).values_list(
            "pk", flat=True
        )
    )
    rng = random.Random(0)
    rows = [
        (
            json.dumps([round(rng.gauss(0, 1), 5) for _ in range(256)]),
            json.dumps({"rare": round(rng.random(), 6)}),
            pk,
        )
        for pk in ids
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            "UPDATE annotate_item SET embedding = %s, score_components = %s "
            "WHERE id = %s",
            rows,
        )
    print(f"seeded {args.items} items ({len(ids)} unlabelled, embedded) "
          f"in {time.perf_counter() - t0:.1f}s")  # fmt: skip

    times: dict[str, float] = {}
    for name in ("item_scores_unlabeled", "item_priorities_set"):
        fn = getattr(scoring, name)

        def timed(*a, _fn=fn, _name=name, **kw):
            with timer(times, _name):
                return _fn(*a, **kw)

        setattr(scoring, name, timed)
    select = scoring.selection.select

    def timed_select(*a, **kw):
        with timer(times, "selection (ml.selection.select)"):
            return select(*a, **kw)

    scoring.selection.select = timed_select
    for r in range(args.repeat):
        times.clear()
        w0, c0 = time.perf_counter(), time.process_time()
        n = scoring.prioritise_project(project=project)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in times.items())
        print(f"[{r + 1}] {n} priorities in {wall:.2f}s (CPU {cpu:.2f}s): {parts}")


if __name__ == "__main__":
    main()
