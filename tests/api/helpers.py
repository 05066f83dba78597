"""Small builders for the API tests: images, archives, COCO documents, clients."""

import io
import random
import struct
import zipfile
import zlib

from rest_framework.test import APIClient

from annotate.demo_data import synthetic_image


def png(seed: int = 0, w: int = 64, h: int = 48) -> bytes:
    return synthetic_image(seed, w, h).png


def noise(n: int, seed: int = 0) -> bytes:
    """n seeded pseudo-random bytes: the same in every run (never os.urandom)."""
    return random.Random(seed).randbytes(n)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height: a few dozen bytes (bomb header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def upload_file(name: str, data: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
