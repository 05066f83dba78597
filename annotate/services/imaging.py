"""Decoding uploaded images in bounded memory: every byte checked, EXIF
orientation applied, a 256 px JPEG thumbnail (libvips for JPEG/PNG/WebP, Pillow
for BMP). The caller has already checked the format and the header's size.

Why libvips: Pillow decodes a PNG or WebP whole (a 64-megapixel PNG of 300 KiB
is 192 MB of pixels, and the old code held three copies). libvips streams a PNG
row by row through the thumbnail and decodes JPEG and WebP at a reduced scale,
so the full-size image never exists unless the pixels must be rewritten
(orientation, unusual colour modes); even then there is one copy, which libvips
moves to a temporary file when it is larger than its disc threshold (100 MB).
"""

import io
import logging
from dataclasses import dataclass

import pyvips
from PIL import Image

# Nothing outlives a call: no operation cache (it would keep decoded images),
# one worker thread per pipeline (a web worker runs several requests at once),
# and only the three loaders named below, never libvips' format sniffing.
pyvips.cache_set_max(0)
pyvips.concurrency_set(1)
pyvips.block_untrusted_set(True)
# libvips reports every operation at INFO; its warnings and errors still show.
logging.getLogger("pyvips").setLevel(logging.WARNING)

THUMBNAIL_SIZE = 256
# Pillow modes stored as uploaded; any other mode is converted to 8-bit RGB(A).
PLAIN_MODES = {"RGB", "L", "RGBA", "P", "LA"}
_VIPS_LOADERS = {
    "JPEG": pyvips.Image.jpegload_buffer,
    "PNG": pyvips.Image.pngload_buffer,
    "WEBP": pyvips.Image.webpload_buffer,
}


class ImageUnreadable(Exception):
    """The bytes do not decode to a whole image; `reason` is shown to the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedImage:
    data: bytes  # the bytes to store (re-encoded when orientation or mode required)
    image_format: str
    width: int  # as displayed: after the EXIF orientation
    height: int
    thumbnail: bytes


def image_decode(data: bytes, *, image_format: str, mode: str) -> DecodedImage:
    """Decode `data` (of a format of annotate.formats, Pillow mode `mode`) once in
    full, refusing truncated or corrupt data; apply the EXIF orientation and make
    the thumbnail. Peak memory stays far below the decoded size for JPEG, PNG
    and WebP (see the module docstring). Raises ImageUnreadable."""
    if image_format == "BMP":
        return _pillow_decode(data, mode)
    try:
        return _vips_decode(data, image_format, mode)
    except pyvips.Error as exc:
        raise ImageUnreadable(_vips_reason(exc)) from None


def _vips_reason(exc: pyvips.Error) -> str:
    lines = [line.strip() for line in (exc.detail or "").splitlines() if line.strip()]
    # "VipsJpeg: premature end of JPEG image" -> "premature end of JPEG image"
    return lines[0].split(": ", 1)[-1] if lines else exc.message


def _vips_decode(data: bytes, fmt: str, mode: str) -> DecodedImage:
    load = _VIPS_LOADERS[fmt]
    header = load(data, access="sequential", fail_on="error")  # reads the header
    orientation = 1
    if header.get_typeof("orientation"):
        orientation = header.get("orientation")
    if orientation not in range(2, 9):
        orientation = 1
    thumbnail = _vips_thumbnail(data, fmt, header.width, header.height)
    if orientation == 1 and mode in PLAIN_MODES:
        return DecodedImage(data, fmt, header.width, header.height, thumbnail)
    # The pixels must be rewritten: rotation needs random access (one copy),
    # a mode conversion streams.
    image = load(
        data, access="random" if orientation != 1 else "sequential", fail_on="error"
    )
    if orientation != 1:
        image = image.autorot()
    image = image.colourspace("srgb")  # 8-bit sRGB, alpha kept
    if fmt == "JPEG" and not image.hasalpha():
        stored = image.jpegsave_buffer(Q=95, keep="none")
    else:
        fmt, stored = "PNG", image.pngsave_buffer(keep="none")
    return DecodedImage(stored, fmt, image.width, image.height, thumbnail)


def _vips_thumbnail(data: bytes, fmt: str, width: int, height: int) -> bytes:
    """The thumbnail, from a decode of every byte at the smallest scale that still
    gives THUMBNAIL_SIZE: JPEG shrinks by up to 8 in the decoder, WebP scales in
    the decoder, PNG streams row by row. Orientation is applied."""
    longest = max(width, height)
    options = {}
    if fmt == "JPEG":
        shrink = 1
        while shrink < 8 and longest // (shrink * 2) >= THUMBNAIL_SIZE:
            shrink *= 2
        options["shrink"] = shrink
    elif fmt == "WEBP" and longest > 2 * THUMBNAIL_SIZE:
        options["scale"] = 2 * THUMBNAIL_SIZE / longest
    image = _VIPS_LOADERS[fmt](data, access="sequential", fail_on="error", **options)
    thumb = image.thumbnail_image(
        THUMBNAIL_SIZE, height=THUMBNAIL_SIZE, size="down", fail_on="error"
    )
    thumb = thumb.colourspace("srgb")
    if thumb.hasalpha():
        thumb = thumb.flatten(background=255)
    return thumb.jpegsave_buffer(Q=80, keep="none")


def _pillow_decode(data: bytes, mode: str) -> DecodedImage:
    """BMP (no libvips loader): its size is bounded by ALWEB_MAX_IMAGE_BYTES, or
    for RLE by one byte per pixel; no full-size copy is made for the thumbnail."""
    try:
        with Image.open(io.BytesIO(data), formats=["BMP"]) as img:
            img.load()
            stored, fmt, image = data, "BMP", img
            if mode not in PLAIN_MODES:
                # 1-bit to 8-bit grey, not RGB: a third of the memory.
                target = "RGBA" if "A" in img.mode else "RGB"
                image = img.convert("L" if img.mode == "1" else target)
                buf = io.BytesIO()
                image.save(buf, "PNG")
                stored, fmt = buf.getvalue(), "PNG"
            width, height = image.size
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # in place, reduces
            return DecodedImage(stored, fmt, width, height, _pillow_jpeg(image))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(str(exc)) from None


def _pillow_jpeg(thumb: Image.Image) -> bytes:
    if "A" in thumb.mode or thumb.mode == "P" and "transparency" in thumb.info:
        rgba = thumb.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        flat.alpha_composite(rgba)
        thumb = flat
    buf = io.BytesIO()
    thumb.convert("RGB").save(buf, "JPEG", quality=80)
    return buf.getvalue()
