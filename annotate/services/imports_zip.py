"""The one import entry of the API and the data page (file_import): COCO and
Label Studio JSON, YOLO and Pascal VOC zips (read by
annotate.services.dataset_sources as streamed sources of coco_import)."""

from django.core.exceptions import ValidationError

from annotate.services.coco_source import FileSource, json_array, rewound
from annotate.services.dataset_sources import VocSource, YoloSource, open_zip
from annotate.services.imports import coco_import
from annotate.services.imports_ls import NOT_A_LIST, label_studio_import
from annotate.services.imports_ls_zip import label_studio_zip_import

DATASET_FORMATS = ("yolo", "voc")


def dataset_import(*, project, handle, fmt: str, **options) -> dict:
    """Import a YOLO or VOC zip (annotate.services.dataset_sources) through
    coco_import with the same options, streamed; all or nothing."""
    if fmt not in DATASET_FORMATS:
        raise ValidationError(
            {"format": f"must be one of coco, {', '.join(DATASET_FORMATS)}"}
        )
    archive, members = open_zip(handle)
    with archive:
        if fmt == "yolo":
            source = YoloSource(project=project, archive=archive, members=members)
        else:
            source = VocSource(archive=archive, members=members)
        return coco_import(project=project, source=source, **options)


FILE_FORMATS = ("coco", "yolo", "voc", "label_studio")


def _is_zip(handle) -> bool:
    head = handle.read(4)
    handle.seek(0)
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def file_import(*, project, fmt: str, handle=None, document=None, **options) -> dict:
    """Import one file of any supported format (the API's and the data page's
    one entry): coco and label_studio take a parsed `document` or a JSON file
    `handle`, yolo and voc a zip `handle`; label_studio also a zip of its
    export and images (annotate.services.imports_ls_zip). All or nothing;
    ValidationError lists every problem under `file`."""
    if fmt not in FILE_FORMATS:
        raise ValidationError({"format": f"must be one of {', '.join(FILE_FORMATS)}"})
    if fmt in DATASET_FORMATS:
        if handle is None:
            raise ValidationError({"file": [f"send the {fmt} dataset as a zip"]})
        return dataset_import(project=project, handle=handle, fmt=fmt, **options)
    if document is None and handle is None:
        raise ValidationError({"file": ["send a JSON file"]})
    if fmt == "coco":
        # A file is streamed (annotate.services.coco_source), never parsed whole.
        source = None if document is not None else FileSource(handle)
        return coco_import(project=project, document=document, source=source, **options)
    if document is None and _is_zip(handle):
        return label_studio_zip_import(project=project, handle=handle, **options)
    if document is None:
        # Streamed one task at a time (annotate.services.coco_source.json_array).
        document = json_array(
            lambda: rewound(handle),
            not_json="not valid JSON",
            not_list=NOT_A_LIST,
        )
    return label_studio_import(project=project, tasks=document, **options)
