"""The image formats alweb accepts and stores: the format Pillow detects, the
extension of the stored file, and the media type it is served with."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    extension: str
    media_type: str


IMAGE_FORMATS = {
    "JPEG": ImageFormat("jpg", "image/jpeg"),
    "PNG": ImageFormat("png", "image/png"),
    "WEBP": ImageFormat("webp", "image/webp"),
    "BMP": ImageFormat("bmp", "image/bmp"),
}
UNKNOWN = ImageFormat("bin", "application/octet-stream")


def image_format(name: str) -> ImageFormat:
    """The entry of a detected format name; UNKNOWN (never served as an image)
    for anything else."""
    return IMAGE_FORMATS.get(name, UNKNOWN)
