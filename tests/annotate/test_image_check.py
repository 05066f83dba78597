"""image_check's contract: allowlisted formats by content, truncated, corrupt and
animated files refused, EXIF orientation applied, odd colour modes converted, a
JPEG thumbnail of at most 256 px."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from annotate.services.items import ItemRejected, image_check


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def photo(width=640, height=480, seed=0) -> Image.Image:
    """A seeded image whose quadrants differ, so a rotation is visible."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 30, (height, width, 3), dtype=np.uint8)
    arr[: height // 2, : width // 2, 0] += 200  # top-left red
    arr[height // 2 :, width // 2 :, 2] += 200  # bottom-right blue
    return Image.fromarray(arr)


def with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def mean_rgb(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize((8, 8)), dtype=float)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"quality": 90}), ("BMP", {})],
)
def test_allowed_formats_keep_their_bytes_size_and_get_a_jpeg_thumbnail(fmt, params):
    data = encode(photo(640, 480), fmt, **params)
    checked = image_check(data)
    assert (checked.image_format, checked.width, checked.height) == (fmt, 640, 480)
    assert checked.data == data
    thumb = decode(checked.thumbnail)
    assert thumb.format == "JPEG" and thumb.size == (256, 192)
    diff = np.abs(mean_rgb(thumb) - mean_rgb(photo(640, 480))).mean()
    assert diff < 12, f"thumbnail differs from the image ({diff:.1f})"


def test_a_small_image_keeps_its_size_in_the_thumbnail():
    checked = image_check(encode(photo(96, 72), "PNG"))
    assert decode(checked.thumbnail).size == (96, 72)


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "ICO", "PPM"])
def test_formats_outside_the_allowlist_are_refused_by_content(fmt):
    with pytest.raises(ItemRejected, match="not an image in an allowed format"):
        image_check(encode(photo(64, 48), fmt))


def test_refused_the_same_under_ultralytics_patch_of_image_open(monkeypatch):
    """ultralytics.utils.patches.image_open, as imported into every worker that
    trains: on UnidentifiedImageError it imports pi_heif (not installed) and
    retries. Reproduced here without importing torch."""
    real_open = Image.open

    def image_open(fp, *args, **kwargs):
        try:
            return real_open(fp, *args, **kwargs)
        except Image.UnidentifiedImageError:
            import pi_heif  # noqa: F401  (ModuleNotFoundError, as in the worker)

            raise

    monkeypatch.setattr(Image, "open", image_open)
    with pytest.raises(ItemRejected, match="not an image in an allowed format"):
        image_check(encode(photo(64, 48), "GIF"))
    assert image_check(encode(photo(64, 48), "PNG")).width == 64


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(fmt):
    data = encode(photo(640, 480), fmt)
    with pytest.raises(ItemRejected, match="unreadable image"):
        image_check(data[: len(data) * 2 // 3])


def _png_chunks(data: bytes):
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        yield pos, data[pos + 4 : pos + 8], length
        pos += 12 + length


def test_a_png_with_corrupt_image_data_is_refused():
    data = bytearray(encode(photo(640, 480), "PNG"))
    pos, _, length = next(c for c in _png_chunks(bytes(data)) if c[1] == b"IDAT")
    body = pos + 8
    data[body + 100 : body + 140] = bytes(40)  # garbage inside the zlib stream
    # ... with a valid CRC, so that only decoding the pixels can notice.
    crc = zlib.crc32(bytes(data[pos + 4 : body + length]))
    data[body + length : body + length + 4] = struct.pack(">I", crc)
    with pytest.raises(ItemRejected, match="unreadable image"):
        image_check(bytes(data))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_are_refused(fmt):
    frames = [photo(64, 48, seed=s) for s in range(3)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:])
    with pytest.raises(ItemRejected, match="animated"):
        image_check(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_to_size_pixels_and_thumbnail(fmt, orientation):
    original = photo(640, 480)
    data = encode(original, fmt, exif=with_orientation(orientation))
    checked = image_check(data)
    upright = ImageOps.exif_transpose(decode(data))
    assert (checked.width, checked.height) == upright.size
    stored = decode(checked.data)
    assert stored.size == upright.size
    assert stored.getexif().get(0x0112, 1) == 1, "no orientation left to apply twice"
    assert checked.image_format == ("JPEG" if fmt == "JPEG" else "PNG")
    assert np.abs(mean_rgb(stored) - mean_rgb(upright)).mean() < 12
    thumb = decode(checked.thumbnail)
    assert thumb.size == ((192, 256) if orientation in (6, 8) else (256, 192))
    assert np.abs(mean_rgb(thumb) - mean_rgb(upright)).mean() < 12


def test_a_cmyk_jpeg_is_stored_as_rgb():
    checked = image_check(encode(photo(320, 240).convert("CMYK"), "JPEG"))
    stored = decode(checked.data)
    assert (checked.image_format, stored.mode, stored.size) == (
        "JPEG",
        "RGB",
        (320, 240),
    )


def test_a_16_bit_grey_png_is_stored_as_8_bit():
    arr = (np.arange(320 * 240, dtype=np.uint32).reshape(240, 320) % 65536).astype(
        np.uint16
    )
    checked = image_check(encode(Image.fromarray(arr), "PNG"))
    stored = decode(checked.data)
    assert checked.image_format == "PNG" and stored.mode in ("RGB", "L")
    assert decode(checked.thumbnail).size == (256, 192)


def test_a_1_bit_bmp_is_stored_as_8_bit_png():
    checked = image_check(encode(photo(320, 240).convert("1"), "BMP"))
    assert checked.image_format == "PNG" and decode(checked.data).mode == "L"


def test_transparent_pixels_become_white_in_the_thumbnail():
    img = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    checked = image_check(encode(img, "PNG"))
    assert checked.data and decode(checked.thumbnail).getpixel((10, 10)) >= (
        250,
        250,
        250,
    )
