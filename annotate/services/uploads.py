"""Ingest of uploaded files (images and zip archives) as items, with a per-file report.

Zip archives are checked from their central directory before any member is read:
entry count, total declared size and compression ratio. Member names are only ever
display text; nothing is extracted to disk (members are read into memory one at a
time through a byte counter bounded by the per-image limit).
"""

import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from annotate.models import Project
from annotate.services.items import (
    ItemRejected,
    display_name,
    item_create,
    items_created_notify,
)

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CHUNK = 1024 * 1024


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_zip_entries() -> int:
    return _limit("ALWEB_MAX_ZIP_ENTRIES", 10_000)


def max_zip_bytes() -> int:
    """Total declared uncompressed size of one archive."""
    return _limit("ALWEB_MAX_ZIP_BYTES", 2 * 1024 * 1024 * 1024)


def max_zip_ratio() -> int:
    return _limit("ALWEB_MAX_ZIP_RATIO", 100)


@dataclass
class UploadReport:
    created: list[int] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append({"name": name, "reason": reason})

    def as_dict(self) -> dict:
        return {"created": self.created, "skipped": self.skipped}


def report_name(name: str) -> str:
    """A member or file name as display text: printable, bounded, never a path."""
    text = "".join(
        ch for ch in str(name) if ch.isprintable() and ch not in "\u202e\u202d"
    )
    return text[:255] or "unnamed"


def read_bounded(handle, limit: int) -> bytes:
    """Read at most `limit` bytes; ItemRejected when there are more."""
    parts, total = [], 0
    while True:
        chunk = handle.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise ItemRejected(f"file too large (> {limit} bytes)")
    return b"".join(parts)


def _is_zip(head: bytes) -> bool:
    return head[:4] in ZIP_MAGIC


def uploads_ingest(
    *, project: Project, files: Iterable, actor=None, report: UploadReport | None = None
) -> UploadReport:
    """Turn uploaded files (Django UploadedFile or any object with `name` and
    `read`/`seek`) into items. Good files become items; each rejected file or
    archive member is listed with its reason. One item per transaction: a bad file
    never leaves a row or a stored file behind."""
    report = report or UploadReport()
    first_new = len(report.created)
    max_bytes = settings.ALWEB_MAX_IMAGE_BYTES
    for upload in files:
        name = report_name(getattr(upload, "name", "") or "unnamed")
        try:
            head = upload.read(4)
            upload.seek(0)
        except (OSError, ValueError):
            report.skip(name, "unreadable upload")
            continue
        if _is_zip(head) or name.lower().endswith(".zip"):
            zip_ingest(
                project=project, handle=upload, name=name, actor=actor, report=report
            )
            continue
        size = getattr(upload, "size", None)
        if size is not None and size > max_bytes:
            report.skip(name, f"file too large ({size} bytes > {max_bytes})")
            continue
        try:
            data = read_bounded(upload, max_bytes)
            item = item_create(
                project=project,
                data=data,
                name=name,
                source_path=getattr(upload, "name", "") or "",
                actor=actor,
                notify=False,
            )
        except ItemRejected as exc:
            report.skip(name, exc.reason)
            continue
        report.created.append(item.pk)
    items_created_notify(project=project, item_ids=report.created[first_new:])
    return report


def member_refusal(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link refused"
    if info.flag_bits & 0x1:
        return "encrypted member refused"
    if info.filename.lower().endswith((".zip", ".jar", ".tar", ".gz", ".7z", ".rar")):
        return "nested archive refused"
    if info.file_size > settings.ALWEB_MAX_IMAGE_BYTES:
        return f"file too large ({info.file_size} bytes)"
    if info.file_size > 1024 * 1024 and (
        info.file_size > max_zip_ratio() * max(info.compress_size, 1)
    ):
        return "compression ratio too high (zip bomb?)"
    return None


def zip_ingest(*, project: Project, handle, name: str, actor, report: UploadReport):
    """Import the images of one zip archive (see the module docstring for checks).

    An archive failing an archive-wide limit is refused as a whole (nothing read);
    otherwise each member is imported or listed with its reason.
    """
    try:
        archive = zipfile.ZipFile(handle)
        infos = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
    ) as exc:
        report.skip(name, f"broken zip archive: {exc}"[:300])
        return
    with archive:
        files = [i for i in infos if not i.is_dir()]
        if len(infos) > max_zip_entries():
            report.skip(name, f"too many entries ({len(infos)} > {max_zip_entries()})")
            return
        declared = sum(i.file_size for i in files)
        if declared > max_zip_bytes():
            report.skip(
                name,
                f"archive too large when unpacked ({declared} > {max_zip_bytes()})",
            )
            return
        compressed = sum(i.compress_size for i in files)
        if declared > 1024 * 1024 and declared > max_zip_ratio() * max(compressed, 1):
            report.skip(name, "compression ratio too high (zip bomb?)")
            return
        if not files:
            report.skip(name, "archive contains no files")
            return
        before = len(report.created)
        for info in files:
            member = report_name(f"{name}:{info.filename}")
            refusal = member_refusal(info)
            if refusal:
                report.skip(member, refusal)
                continue
            try:
                with archive.open(info) as fh:
                    data = read_bounded(fh, info.file_size)
                if _is_zip(data[:4]):
                    raise ItemRejected("nested archive refused")
                item = item_create(
                    project=project,
                    data=data,
                    name=display_name(info.filename),
                    source_path=info.filename,
                    actor=actor,
                    notify=False,
                )
            except ItemRejected as exc:
                report.skip(member, exc.reason)
                continue
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                ValueError,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                # RuntimeError: encrypted member without password; zlib errors are
                # OSError/ValueError subclasses; a lying size fails the CRC check.
                report.skip(member, f"unreadable member: {exc}"[:300])
                continue
            report.created.append(item.pk)
        if len(report.created) == before and not any(
            s["name"].startswith(f"{name}:") for s in report.skipped
        ):
            report.skip(name, "archive contains no images")
