"""Throughput of POST /api/v1/projects/{id}/items/: N 64x64 PNGs, B per request.

Fresh SQLite file database and media folder in a temporary directory; uploads go
through the API with Django's test client (token auth), each request multipart
with B files. Image generation is untimed; background jobs the uploads
enqueue (scoring) are queued in the ORM broker, not run. Prints items/s and
per-request times.

Usage: .venv/bin/python bench/upload.py [--images 1000] [--batch 100]
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from _common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    setup_django("upload", sync=False)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotate.models import Item
    from annotate.services.projects import project_create
    from tests.factories import UserFactory

    owner = UserFactory(username="bench-owner")
    project = project_create(owner=owner, name="bench", labels=["a"], kinds=["box"])
    token = Token.objects.create(user=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    images = []
    for i in range(args.images):
        img = Image.new("RGB", (64, 64), (i % 256, (i // 256) % 256, 77))
        img.putpixel((i % 64, (i // 64) % 64), (255, 255, 255))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        images.append(buf.getvalue())

    url = f"/api/v1/projects/{project.pk}/items/"
    times = []
    created = 0
    t0 = time.perf_counter()
    for start in range(0, args.images, args.batch):
        files = [
            SimpleUploadedFile(f"img_{i}.png", images[i], "image/png")
            for i in range(start, min(start + args.batch, args.images))
        ]
        t = time.perf_counter()
        response = client.post(url, {"files": files}, format="multipart")
        times.append(time.perf_counter() - t)
        assert response.status_code == 201, response.content[:500]
        created += len(response.data["created"])
        assert not response.data["skipped"], response.data["skipped"][:3]
    elapsed = time.perf_counter() - t0
    assert Item.objects.count() == created == args.images
    print(
        f"uploaded {created} images ({args.batch}/request) in {elapsed:.2f} s: "
        f"{created / elapsed:.0f} items/s; per request median "
        f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
