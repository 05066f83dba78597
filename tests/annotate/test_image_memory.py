"""image_check runs in bounded memory: peak RSS growth of a fresh process checking
a 64-megapixel PNG (a few hundred KiB), 12-megapixel JPEGs and 64-megapixel WebPs
stays under fixed budgets. Before libvips the PNG grew a process by about 490
MiB, the JPEG by 93 MiB, the rotated JPEG by 145 MiB and either WebP by 980 MiB."""

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20

# Runs in a fresh interpreter: everything is imported and warmed up first, then
# the peak (VmHWM) is reset and image_check runs once.
MEASURE = r"""
import json, sys
import django
django.setup()
from annotate.demo_data import synthetic_image
from annotate.services.items import image_check

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

image_check(synthetic_image(0, 64, 48).png)
data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset VmHWM to the current RSS
before = status("VmRSS")
checked = image_check(data, max_pixels=64_000_000, max_bytes=50 * 2**20)
print(json.dumps({
    "growth": status("VmHWM") - before,
    "size": [checked.width, checked.height],
    "thumbnail": len(checked.thumbnail),
}))
"""


def png_64_megapixels() -> bytes:
    """An 8000 x 8000 RGB PNG written row by row (never whole in memory): blocks
    of colour, each block's first row plain and the rest filtered "Up" (zeros)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    size = 8000
    x = np.arange(size)
    compressor = zlib.compressobj(9)
    idat = bytearray()
    up = b"\x02" + bytes(size * 3)
    for y in range(size):
        if y % 500 == 0:
            row = np.stack(
                [
                    (x // 500 + y // 500) % 2 * 200,
                    x * 255 // size,
                    np.full(size, y // 32),
                ],
                axis=1,
            ).astype(np.uint8)
            idat += compressor.compress(b"\x00" + row.tobytes())
        else:
            idat += compressor.compress(up)
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", bytes(idat))
        + chunk(b"IEND", b"")
    )


def jpeg_12_megapixels(orientation: int = 1) -> bytes:
    """A 4000 x 3000 photo-like JPEG (gradients and seeded noise), a few MiB."""
    rng = np.random.default_rng(12)
    yy, xx = np.mgrid[0:3000, 0:4000]
    arr = np.empty((3000, 4000, 3), dtype=np.uint8)
    arr[..., 0] = xx * 200 // 4000
    arr[..., 1] = yy * 200 // 3000
    arr[..., 2] = (xx + yy) % 200
    arr += rng.integers(0, 50, arr.shape, dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


# Pillow needs the whole image to encode a WebP: done in a throwaway process.
WEBP = r"""
import io, sys
from PIL import Image
grey = Image.radial_gradient("L").resize((8000, 8000))
img = Image.merge("RGB", [grey, grey.transpose(Image.Transpose.ROTATE_90), grey])
buf = io.BytesIO()
img.save(buf, "WEBP", **eval(sys.argv[1]))
sys.stdout.buffer.write(buf.getvalue())
"""


def webp_64_megapixels(params: str):
    def make() -> bytes:
        return subprocess.run(
            [sys.executable, "-c", WEBP, params],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout

    return make


def peak_growth(tmp_path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "alweb.settings_test",
        "ALWEB_VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux")
@pytest.mark.parametrize(
    ("name", "make", "size", "budget_mib"),
    [
        ("64mp.png", png_64_megapixels, [8000, 8000], 100),  # 490 MiB before
        ("12mp.jpg", jpeg_12_megapixels, [4000, 3000], 40),  # 93 MiB before
        # Rotating must rewrite the pixels: one full-size copy, no more.
        ("12mp-rotated.jpg", lambda: jpeg_12_megapixels(6), [3000, 4000], 110),
        # 982 MiB before; lossy WebP decodes at a reduced scale.
        pytest.param(
            "64mp.webp",
            webp_64_megapixels("{'quality': 50, 'method': 0}"),
            None,
            40,
            marks=pytest.mark.slow,
        ),
        # 981 MiB before. Lossless WebP cannot do better than one full copy:
        # libwebp holds the whole ARGB image (back-references span all of it).
        pytest.param(
            "64mp-lossless.webp",
            webp_64_megapixels("{'lossless': True, 'method': 0}"),
            None,
            320,
            marks=pytest.mark.slow,
        ),
    ],
)
def test_image_check_stays_within_its_memory_budget(
    tmp_path, name, make, size, budget_mib
):
    data = make()
    if name.endswith(".png"):
        assert len(data) < 1024 * 1024, f"{len(data)} bytes"
    result = peak_growth(tmp_path, name, data)
    assert result["size"] == (size or [8000, 8000]) and result["thumbnail"] > 0
    growth = result["growth"] / MIB
    print(f"{name}: {len(data) / 1024:.0f} KiB, peak RSS growth {growth:.0f} MiB")
    assert growth < budget_mib, f"{name}: {growth:.0f} MiB > {budget_mib} MiB"
