"""CPU time and queries of the manager's pages at 100,000 items (#15), on SQLite.

The pages the 20-annotator drill's manager reads (bench/drill_annotators.py):
the project dashboard, the items list API (first page, a deep page, every
filter and ordering it offers) and the HTML item browser (first and deep page,
a filter, the file-name search). Through Django's test client as the
project's annotation manager: per page the query count, and the median and
max of time.process_time() (this process: client, view, template and SQLite,
which runs in-process) and of wall time over `--repeat` GETs after one
warm-up.

Seeds a fresh database with `manage.py seed_large --items N`, or reuses the
var dir of an earlier run (`--var DIR`). Either way it first tags every tenth
item "bench" (once: the API's tag filter needs a tag), so time the code
before and after a change on copies of one prepared var dir.

`--explain` prints each page's queries with their time and SQLite's EXPLAIN
QUERY PLAN; `--profile NAME` prints the cProfile of that page (10 GETs).

Usage: .venv/bin/python bench/pages_100k.py [--items 100000] [--repeat 7]
       [--var DIR] [--only NAME ...] [--explain] [--profile NAME]
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from _common import setup_django  # noqa: E402

TAG = "bench"
PAGE_DEEP = 1000  # the API's 1,000th page (50 a page) and the browser's (48)


def pages(project_id: int) -> dict[str, str]:
    api = f"/api/v1/projects/{project_id}/items/"
    html = f"/projects/{project_id}/items/"
    return {
        "dashboard": f"/projects/{project_id}/",
        "api first page": api,
        "api deep page": f"{api}?page={PAGE_DEEP}",
        "api last page": f"{api}?page=2000",
        "api status=unlabeled": f"{api}?status=unlabeled",
        "api status=unlabeled deep": f"{api}?status=unlabeled&page={PAGE_DEEP}",
        "api status=done": f"{api}?status=done",
        "api status=review": f"{api}?status=review",
        "api split=train": f"{api}?split=train",
        "api split=none": f"{api}?split=none",
        "api tag": f"{api}?tag={TAG}",
        "api ordering=priority": f"{api}?ordering=priority",
        "api ordering=priority deep": f"{api}?ordering=priority&page={PAGE_DEEP}",
        "api review+priority p2": f"{api}?status=review&ordering=priority&page=2",
        "api ordering=created": f"{api}?ordering=created",
        "api ordering=-created": f"{api}?ordering=-created",
        "api done+train+created": f"{api}?status=done&split=train&ordering=created",
        "html first page": html,
        "html deep page": f"{html}?page={PAGE_DEEP}",
        "html status=review": f"{html}?status=review",
        "html done+train p3": f"{html}?status=done&split=train&page=3",
        "html search": f"{html}?q=00123",
        "html ordering=priority": f"{html}?ordering=priority",
    }


def _times(fn, repeat: int) -> tuple[list[float], list[float]]:
    fn()  # warm-up: page cache, template loading
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return cpu, wall


def _prepare(project) -> None:
    from annotate.models import Item, ItemTag

    if ItemTag.objects.filter(project=project, name=TAG).exists():
        return
    ids = (
        Item.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)
    )
    ItemTag.objects.bulk_create(
        (ItemTag(project=project, item_id=pk, name=TAG) for pk in ids[::10]),
        batch_size=5000,
    )


def _explain(connection, captured) -> None:
    for q in captured:
        sql = q["sql"]
        cut = sql.find(" FROM ")  # the columns are long; the rest says what it does
        shown = sql if cut < 0 or cut < 120 else sql[:60] + " …" + sql[cut:]
        print(f"  {float(q['time']) * 1000:7.1f} ms  {shown[:600]}")
        if connection.vendor != "sqlite" or not sql.lstrip().upper().startswith(
            "SELECT"
        ):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            for row in cursor.fetchall():
                print(f"             plan: {row[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--var", default=None, help="reuse a seeded var dir")
    parser.add_argument("--only", nargs="*", default=None, help="page names")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", default=None, help="a page name")
    args = parser.parse_args()
    if args.var:
        os.environ["ALWEB_VAR_DIR"] = args.var
        os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
        os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
        os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # this code's indexes, if any
    else:
        var = setup_django("pages")
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("seed_large", items=args.items, stdout=io.StringIO())
        print(f"seeded {args.items} items in {time.perf_counter() - t0:.0f} s: {var}")
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from alweb.roles import Role
    from annotate.models import Item, Membership, Project

    project = Project.objects.get()
    _prepare(project)
    manager = (
        Membership.objects.filter(project=project, role=Role.ANNOTATION_MANAGER)
        .select_related("user")
        .first()
        .user
    )
    client = Client()
    client.force_login(manager)
    urls = pages(project.pk)
    names = args.only or list(urls)
    print(
        f"{connection.vendor}, {Item.objects.filter(project=project).count()} items, "
        f"load average {os.getloadavg()[0]:.2f}, repeat {args.repeat}"
    )

    for name in names:
        url = urls[name]

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        get()
        with CaptureQueriesContext(connection) as queries:
            get()
        captured = list(queries.captured_queries)  # a reconnect clears the log
        cpu, wall = _times(get, args.repeat)
        print(
            f"{name:<28} {len(captured):3d} queries | CPU median "
            f"{statistics.median(cpu):7.1f} ms, max {max(cpu):7.1f} | wall median "
            f"{statistics.median(wall):7.1f} ms, max {max(wall):7.1f}",
            flush=True,
        )
        if args.explain:
            _explain(connection, captured)
        if args.profile == name:
            reset_queries()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                get()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(45)
            out.write("\n--- by own time ---\n")
            stats.sort_stats("tottime").print_stats(30)
            print(out.getvalue())
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
