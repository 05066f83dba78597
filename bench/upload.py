"""Throughput of POST /api/v1/projects/{id}/items/ through real gunicorn over HTTP.

A fresh SQLite file database and media folder in a temporary directory
(migrated here); then gunicorn is started on loopback the way scripts/run.sh
starts it (``gunicorn alweb.wsgi:application --workers 2 --threads 4
--timeout 120``, settings ``alweb.settings``, in a session of its own) with
``ALWEB_Q_SYNC=0``: the jobs the uploads enqueue (scoring of new items) are
queued in the ORM broker, not run (no qcluster is started). One
``requests.Session`` with token auth sends N PNGs of 64x64, B per multipart
request. Image generation is untimed; the timer runs from the first request
to the last response. Every response must be 201 with B created and none
skipped, and the database must hold N items. gunicorn is stopped at the end
(SIGTERM to its process group, then SIGKILL after 15 s).

Prints items/s and per-request times.

Usage: .venv/bin/python bench/upload.py [--images 1000] [--batch 100]
       [--workers 2] [--threads 4]
"""

import argparse
import io
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from _common import setup_django  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(var: Path, workers: int, threads: int) -> tuple:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "alweb.settings"}
    env |= {"ALWEB_VAR_DIR": str(var), "ALWEB_Q_SYNC": "0"}
    log = open(var / "gunicorn.log", "wb")
    cmd = [str(REPO / ".venv/bin/gunicorn"), "alweb.wsgi:application"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    cmd += ["--threads", str(threads), "--timeout", "120"]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
    )
    return proc, f"http://127.0.0.1:{port}", var / "gunicorn.log"


def wait_serving(proc, url: str, log: Path) -> None:
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited:\n" + log.read_text())
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # refused, or a booting worker's timeout
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn never answered /healthz:\n" + log.read_text())


def stop(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    var = setup_django("upload", sync=False)
    import requests
    from PIL import Image
    from rest_framework.authtoken.models import Token

    from annotate.models import Item
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    project = project_create(owner=owner, name="bench", labels=["a"], kinds=["box"])
    token = Token.objects.create(user=owner)

    images = []
    for i in range(args.images):
        img = Image.new("RGB", (64, 64), (i % 256, (i // 256) % 256, 77))
        img.putpixel((i % 64, (i // 64) % 64), (255, 255, 255))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        images.append(buf.getvalue())

    proc, base, log = start_gunicorn(var, args.workers, args.threads)
    try:
        wait_serving(proc, base, log)
        head = log.read_text().splitlines()
        worker = next((ln for ln in head if re.search(r"Using worker", ln)), "")
        print(f"gunicorn {base}, {args.workers} workers x {args.threads} threads: "
              f"{worker.split('] ')[-1]}")  # fmt: skip
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token.key}"
        url = f"{base}/api/v1/projects/{project.pk}/items/"
        times = []
        created = 0
        t0 = time.perf_counter()
        for start in range(0, args.images, args.batch):
            files = [
                ("files", (f"img_{i}.png", images[i], "image/png"))
                for i in range(start, min(start + args.batch, args.images))
            ]
            t = time.perf_counter()
            response = session.post(url, files=files, timeout=120)
            times.append(time.perf_counter() - t)
            assert response.status_code == 201, response.text[:500]
            body = response.json()
            created += len(body["created"])
            assert not body["skipped"], body["skipped"][:3]
        elapsed = time.perf_counter() - t0
    finally:
        stop(proc)
    assert Item.objects.filter(project=project).count() == created == args.images
    print(
        f"uploaded {created} images ({args.batch}/request) over HTTP in "
        f"{elapsed:.2f} s: {created / elapsed:.0f} items/s; per request median "
        f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )
    print("per request (ms): " + " ".join(f"{t * 1000:.0f}" for t in times))
    rest = times[2:]  # each of the 2 workers' first request loads the API code
    print(
        f"without the first 2 requests: {args.batch * len(rest) / sum(rest):.0f} "
        f"items/s"
    )
    print(f"gunicorn stopped (exit {proc.returncode})")


if __name__ == "__main__":
    main()
