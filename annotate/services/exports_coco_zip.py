"""COCO with its images: one zip holding `annotations.json` (the document of
annotate.services.exports.coco_chunks) and every listed image under `images/`
at its `file_name` (the upload's relative path kept, unique in the project).

Memory stays bounded: the JSON is streamed into its zip entry chunk by chunk,
then the images are copied one by one in keyset chunks of ground-truth items
(stored, not deflated: PNG and JPEG are compressed already).
"""

import shutil
import zipfile
from collections.abc import Iterable

from django.core.files.storage import default_storage

from annotate.models import ItemStatus, Project
from annotate.selectors import item_count_ground_truth
from annotate.services.export_rows import (
    Progress,
    coco_file_name,
    duplicated_names,
    ground_truth_item_chunks,
)

IMAGES_DIR = "images"


def coco_zip_write(
    *,
    project: Project,
    fileobj,
    document: Iterable[str],
    progress: Progress | None = None,
    include_review: bool = False,
) -> int:
    """Write the zip to `fileobj`: `document` (the COCO text chunks of the same
    items, made without `coco_url`: `file_name` is relative to `images/`), then
    the images. `progress` gets the images' share (0.5 to 1); the document's
    chunks report their own. Returns the number of images written."""
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("annotations.json", "w", force_zip64=True) as entry:
            for chunk in document:
                entry.write(chunk.encode())
        statuses = (
            (ItemStatus.DONE, ItemStatus.REVIEW)
            if include_review
            else (ItemStatus.DONE,)
        )
        duplicated = duplicated_names(project)
        total = max(1, item_count_ground_truth(project=project))
        written = 0
        for chunk in ground_truth_item_chunks(project, statuses):
            for pk, name, _w, _h, _split, fmt, file, path, _status in chunk:
                base = coco_file_name(pk, path, name, fmt, duplicated)
                info = zipfile.ZipInfo(f"{IMAGES_DIR}/{base}")
                info.compress_type = zipfile.ZIP_STORED
                with default_storage.open(file, "rb") as src:
                    with zf.open(info, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                written += 1
            if progress:
                progress(0.5 + 0.5 * min(1.0, written / total))
    return written
