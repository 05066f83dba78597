"""Label Studio migration with its images: a zip holding Label Studio's JSON
export (one .json member: the list of tasks) and the image files (its
media/upload/<project>/ folder, or the folders of a local-files storage).

Each task's image (`data.image`) is found in the zip by the longest tail of
its URL path that names exactly one member. An image no item of the project
matches by name becomes an item through the upload service (the same checks:
allowed formats, size and pixel limits, duplicates by checksum), its relative
path the name the task gives it (annotate.services.imports_ls.image_name, the
8-hex upload prefix dropped), so a later import of the same export finds it;
an image whose bytes are already an item is matched to that item, never
duplicated. Then the tasks are imported as by label_studio_import. All or
nothing: a refused image or task answers 400 naming it, and the items created
for the zip are rolled back with their stored files.
"""

import posixpath
import shutil
import tempfile
import zipfile
import zlib
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotate.models import Item
from annotate.services.coco_source import json_array, rewound
from annotate.services.imports import ImportErrors, match_items
from annotate.services.imports_ls import (
    NOT_A_LIST,
    image_name,
    label_studio_import,
)
from annotate.services.items import (
    ItemRejected,
    item_create,
    item_files_delete,
    items_created_notify,
)
from annotate.services.projects import project_lock
from annotate.services.uploads import (
    max_zip_bytes,
    max_zip_entries,
    max_zip_ratio,
    member_refusal,
    read_bounded,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


def _refuse(reason: str):
    raise ValidationError({"file": [reason]})


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's files by normalised path, after the upload's archive-wide
    limits (entries, declared size, compression ratio)."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > max_zip_entries():
        _refuse(f"too many entries ({len(infos)} > {max_zip_entries()})")
    declared = sum(i.file_size for i in infos)
    if declared > max_zip_bytes():
        _refuse(f"archive too large when unpacked ({declared} > {max_zip_bytes()})")
    compressed = sum(i.compress_size for i in infos)
    if declared > 1024 * 1024 and declared > max_zip_ratio() * max(compressed, 1):
        _refuse("compression ratio too high (zip bomb?)")
    members = {}
    for info in infos:
        name = posixpath.normpath(info.filename.replace("\\", "/")).lstrip("/")
        if not (name.startswith("../") or name == ".."):
            members[name] = info
    return members


def _tasks(archive, members, spool):
    """The export's tasks as a function giving them afresh (one pass over the
    file each call: annotate.services.coco_source.json_array). The member is
    inflated once into `spool` (a temporary file), not once per pass."""
    found = sorted(n for n in members if n.lower().endswith(".json"))
    if len(found) != 1:
        _refuse(
            f"the zip must hold one Label Studio JSON export (.json), not {len(found)}"
        )
    info = members[found[0]]
    limit = int(getattr(settings, "ALWEB_MAX_IMPORT_BYTES", 100 * 1024 * 1024))
    if info.file_size > limit:
        _refuse(f"{found[0]}: too large ({info.file_size} bytes > {limit})")
    try:
        # A member never reads past its declared (bounded) size.
        with archive.open(info) as fh:
            shutil.copyfileobj(fh, spool, 1 << 16)
    except _ZIP_ERRORS as exc:
        _refuse(f"{found[0]}: unreadable ({exc})"[:300])
    return json_array(
        lambda: rewound(spool),
        not_json=f"{found[0]}: not valid JSON",
        not_list=NOT_A_LIST,
    )


def _url_parts(url: str) -> list[str]:
    url = url.strip()
    path = (
        unquote(url.split("?d=", 1)[1])
        if "?d=" in url
        else unquote(urlparse(url).path or "")
    )
    return [p for p in path.split("/") if p not in {"", "."}]


class _ImageIndex:
    """The zip's image members by every tail of their path."""

    def __init__(self, members):
        self.by_tail: dict[str, list[str]] = {}
        for name in members:
            if name.lower().endswith(IMAGE_SUFFIXES):
                parts = name.split("/")
                for i in range(len(parts)):
                    self.by_tail.setdefault("/".join(parts[i:]), []).append(name)

    def member_of(self, url) -> str | None:
        """The one member the longest tail of the URL's path names, or None."""
        if not isinstance(url, str):
            return None
        parts = _url_parts(url)
        for i in range(len(parts)):
            found = self.by_tail.get("/".join(parts[i:]), [])
            if len(found) == 1:
                return found[0]
            if found:
                return None
        return None


def _task_images(tasks) -> list[tuple[int, str, str]]:
    """(task index, image name, URL) of every task that names an image."""
    found = []
    for i, task in enumerate(tasks()):
        data = task.get("data") if isinstance(task, dict) else None
        url = data.get("image") if isinstance(data, dict) else None
        name = image_name(url)
        if name is not None:
            found.append((i, name, url))
    return found


def _create_items(project, archive, members, tasks, actor, created, errors):
    """{image name: item id} of the zip's images no item matches by name,
    created as items (their ids appended to `created`)."""
    index = _ImageIndex(members)
    named = _task_images(tasks)
    matches = match_items(project, sorted({name for _, name, _ in named}))
    item_of: dict[str, int] = {}
    for i, name, url in named:
        if matches.get(name) or name in item_of:
            continue
        member = index.member_of(url)
        if member is None:
            continue  # no image in the zip: the task is matched by name as before
        where = f"tasks[{i}] image {member[:120]!r}"
        info = members[member]
        refusal = member_refusal(info)
        if refusal:
            errors.add(where, refusal)
            continue
        try:
            with archive.open(info) as fh:
                data = read_bounded(fh, info.file_size)
            item = item_create(
                project=project,
                data=data,
                name=name,
                source_path=name,
                actor=actor,
                notify=False,
            )
        except ItemRejected as exc:
            if exc.duplicate_of:
                item_of[name] = exc.duplicate_of
            else:
                errors.add(where, exc.reason)
            continue
        except _ZIP_ERRORS as exc:
            errors.add(where, f"unreadable member: {exc}"[:300])
            continue
        created.append(item)
        item_of[name] = item.pk
    return item_of


def label_studio_zip_import(*, project, handle, actor, as_: str, **options) -> dict:
    """Import a zip of Label Studio's JSON export and its images (see the
    module docstring); the answer is label_studio_import's plus
    `items_created`."""
    try:
        archive = zipfile.ZipFile(handle)
    except _ZIP_ERRORS:
        _refuse("not a readable zip archive")
    created: list[Item] = []
    try:
        with archive, tempfile.TemporaryFile() as spool, transaction.atomic():
            project_lock(project_id=project.pk)
            members = _members(archive)
            tasks = _tasks(archive, members, spool)
            errors = ImportErrors()
            item_of = _create_items(
                project, archive, members, tasks, actor, created, errors
            )
            if errors:
                raise ValidationError({"file": list(errors)})
            result = label_studio_import(
                project=project,
                tasks=tasks,
                as_=as_,
                actor=actor,
                item_of=item_of,
                **options,
            )
            items_created_notify(project=project, item_ids=[i.pk for i in created])
    except BaseException:
        # The rows rolled back; their files were stored outside the transaction.
        item_files_delete(items=created)
        raise
    return {**result, "items_created": len(created)}
