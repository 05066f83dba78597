"""CPU and wall time of the project dashboard at 100,000 items (#15), on SQLite.

Seeds a fresh database with `manage.py seed_large --items N` (or reuses the var
dir of an earlier run, `--var DIR`), then times, through Django's test client
as the project's annotation manager, GET of the dashboard (the project page:
status and split counts, events, runs, the drift panel, claims) and the drift
panel's read alone (`annotate.selectors_mining.drift_weeks`). Prints per
measure the median and max of time.process_time() (CPU of this process: the
client, the view and SQLite, which runs in-process) and of wall time, over
`--repeat` runs after one warm-up, and the dashboard's query count.

Usage: .venv/bin/python bench/dashboard_100k.py [--items 100000] [--repeat 5]
       [--var DIR]
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from _common import setup_django  # noqa: E402


def _times(fn, repeat: int) -> tuple[list[float], list[float]]:
    fn()  # warm-up: page cache, template loading
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return cpu, wall


def _line(name: str, cpu: list[float], wall: list[float]) -> str:
    return (
        f"{name:<12} CPU median {statistics.median(cpu):7.1f} ms, max "
        f"{max(cpu):7.1f} | wall median {statistics.median(wall):7.1f} ms, max "
        f"{max(wall):7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--var", default=None, help="reuse a seeded var dir")
    args = parser.parse_args()
    if args.var:
        os.environ["ALWEB_VAR_DIR"] = args.var
        os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
        os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
        os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver"
        import django

        django.setup()
    else:
        var = setup_django("dashboard")
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("seed_large", items=args.items, stdout=io.StringIO())
        print(f"seeded {args.items} items in {time.perf_counter() - t0:.0f} s: {var}")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from alweb.roles import Role
    from annotate.models import Item, Membership, Project
    from annotate.selectors_mining import drift_weeks

    project = Project.objects.get()
    manager = (
        Membership.objects.filter(project=project, role=Role.ANNOTATION_MANAGER)
        .select_related("user")
        .first()
        .user
    )
    client = Client()
    client.force_login(manager)
    url = reverse("annotate:project-detail", args=[project.pk])

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    with CaptureQueriesContext(connection) as queries:
        page()
    print(
        f"{connection.vendor}, {Item.objects.filter(project=project).count()} items, "
        f"{len(queries.captured_queries)} queries per dashboard, load average "
        f"{os.getloadavg()[0]:.2f}, drift weeks {len(drift_weeks(project=project))}"
    )
    print(_line("dashboard", *_times(page, args.repeat)))
    print(_line("drift_weeks", *_times(lambda: drift_weeks(project=project), 5)))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
