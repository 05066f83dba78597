"""Ingest of images as items: content checks, EXIF orientation, checksum, storage."""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from alweb.files import files_delete_on_commit
from annotate import signals
from annotate.formats import IMAGE_FORMATS
from annotate.models import Item, Project
from annotate.services.events import event_log
from annotate.services.imaging import ImageUnreadable, image_decode


class ItemRejected(Exception):
    """An uploaded file that cannot become an item; `reason` is shown to the user."""

    def __init__(self, reason: str, *, duplicate_of: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.duplicate_of = duplicate_of


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # the bytes to store (re-encoded when orientation or mode required it)
    image_format: str
    width: int
    height: int
    checksum: str  # sha256 of the uploaded bytes
    thumbnail: bytes


def image_check(
    data: bytes, *, max_pixels: int | None = None, max_bytes: int | None = None
) -> CheckedImage:
    """Validate image bytes by content and normalise orientation, in bounded memory.

    Refuses (ItemRejected) empty, oversized, truncated, non-allowlisted, animated and
    too-many-pixel images, reading the pixel count from the header before decoding.
    The decode itself (annotate.services.imaging) checks every byte without ever
    holding more than one full-size copy of the pixels, and none at all unless the
    orientation or colour mode makes it rewrite them.
    """
    max_pixels = max_pixels or settings.ALWEB_MAX_IMAGE_PIXELS
    max_bytes = max_bytes or settings.ALWEB_MAX_IMAGE_BYTES
    if not data:
        raise ItemRejected("empty file")
    if len(data) > max_bytes:
        raise ItemRejected(f"file too large ({len(data)} bytes > {max_bytes})")
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as probe:
            fmt = probe.format
            mode = probe.mode
            width, height = probe.size
            frames = getattr(probe, "n_frames", 1)
    except (UnidentifiedImageError, ImportError):
        # ImportError: once imported (in a worker), ultralytics replaces
        # Image.open with a wrapper that retries unidentified files after
        # importing pi_heif, which is not installed.
        raise ItemRejected(
            "not an image in an allowed format (JPEG, PNG, WebP, BMP)"
        ) from None
    except Image.DecompressionBombError as exc:  # header claims absurd dimensions
        raise ItemRejected(f"image too large: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ItemRejected(f"unreadable image: {exc}") from None
    if width * height > max_pixels:
        raise ItemRejected(
            f"image too large ({width * height / 1e6:.1f} MP"
            f" > {max_pixels / 1e6:.1f} MP)"
        )
    if frames != 1:
        raise ItemRejected("animated images are not supported")
    try:
        decoded = image_decode(data, image_format=fmt, mode=mode)
    except ImageUnreadable as exc:
        raise ItemRejected(f"unreadable image: {exc.reason}") from None
    return CheckedImage(
        data=decoded.data,
        image_format=decoded.image_format,
        width=decoded.width,
        height=decoded.height,
        checksum=hashlib.sha256(data).hexdigest(),
        thumbnail=decoded.thumbnail,
    )


def display_name(name: str) -> str:
    """The original file name kept only as display text: base name, no controls."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        ch for ch in base if ch.isprintable() and ch not in "\u202e\u202d"
    )
    return cleaned[:255] or "unnamed"


def clean_source_path(name: str) -> str:
    """An archive member's relative path as display text: "/" separators, folder
    names kept, empty, "." and ".." parts and controls dropped, at most 1024
    characters ("" when nothing is left)."""
    parts = []
    for part in str(name).replace("\\", "/").split("/"):
        cleaned = "".join(
            ch for ch in part if ch.isprintable() and ch not in "\u202e\u202d"
        ).strip()
        if cleaned and cleaned not in {".", ".."}:
            parts.append(cleaned)
    path = "/".join(parts)
    return path if len(path) <= 1024 else ""


def item_create(
    *,
    project: Project,
    data: bytes,
    name: str,
    actor=None,
    notify: bool = True,
    source_path: str = "",
) -> Item:
    """Store one image as a new unlabelled item of `project` and send item_created
    (unless `notify` is False: batch ingest sends one signal for the whole batch
    with `items_created_notify`).

    Raises ItemRejected for bad content and for a duplicate (same checksum in the
    project). Writes the files only after the row is valid; the row and its files
    are removed together if anything fails.
    """
    checked = image_check(data)
    existing = (
        Item.objects.filter(project=project, checksum=checked.checksum)
        .values_list("pk", flat=True)
        .first()
    )
    if existing:
        raise ItemRejected(f"duplicate of item {existing}", duplicate_of=existing)
    ext = IMAGE_FORMATS[checked.image_format].extension
    item = Item(
        project=project,
        original_name=display_name(name),
        source_path=clean_source_path(source_path),
        image_format=checked.image_format,
        width=checked.width,
        height=checked.height,
        size_bytes=len(checked.data),
        checksum=checked.checksum,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    item.file.save(f"x.{ext}", ContentFile(checked.data), save=False)
    item.thumbnail.save("x.jpg", ContentFile(checked.thumbnail), save=False)
    try:
        with transaction.atomic():
            item.save()
            event_log(
                project_id=project.pk,
                actor=actor,
                verb="item_created",
                item_id=item.pk,
                name=item.original_name,
            )
            if notify:
                items_created_notify(project=project, item_ids=[item.pk])
    except IntegrityError:
        _delete_files(item)
        raise ItemRejected("duplicate of an existing item") from None
    except Exception:
        _delete_files(item)
        raise
    return item


def items_created_notify(*, project: Project, item_ids: list[int]) -> None:
    """Send item_created for `item_ids` once the current transaction commits."""
    if item_ids:
        transaction.on_commit(
            lambda: signals.item_created.send(
                sender=Item, project_id=project.pk, item_ids=list(item_ids)
            )
        )


def _delete_files(item: Item) -> None:
    for field in (item.file, item.thumbnail):
        if field and field.name:
            field.storage.delete(field.name)


def item_files_delete(*, items: list[Item]) -> None:
    """Remove the stored files of items whose rows were rolled back (a file is
    stored before its row, outside the transaction)."""
    for item in items:
        _delete_files(item)


def item_files_delete_on_commit(*, project: Project) -> None:
    """Schedule removal of the project's stored images once its deletion commits."""
    names = []
    for file_name, thumb_name in Item.objects.filter(project=project).values_list(
        "file", "thumbnail"
    ):
        names.extend(n for n in (file_name, thumb_name) if n)
    files_delete_on_commit(storage=Item._meta.get_field("file").storage, names=names)
