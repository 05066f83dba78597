"""Exports of ground truth: COCO JSON (streamed) and a YOLO dataset zip; background
export runs for large projects (Job kind export)."""

import json
import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotate.models import (
    Annotation,
    Item,
    ItemStatus,
    Job,
    JobKind,
    JobStatus,
    Project,
)
from annotate.services import jobs
from ml.geometry import box_to_points, polygon_bbox, to_yolo_box, to_yolo_polygon

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("coco", "yolo")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
Progress = Callable[[float], None]


def export_sync_limit() -> int:
    """Projects with more ground-truth items than this export in the background."""
    return int(getattr(settings, "ALWEB_EXPORT_SYNC_MAX_ITEMS", 5000))


def export_item_count(*, project: Project) -> int:
    return Item.objects.filter(project=project, status=ItemStatus.DONE).count()


def coco_file_name(item_id: int, original_name: str, image_format: str) -> str:
    """The image's COCO file_name: its display name, or a generated one when that
    is empty or could read as a path component."""
    name = original_name or ""
    if name in {"", ".", ".."} or "/" in name or "\\" in name:
        return f"item_{item_id}.{EXTENSIONS.get(image_format, 'bin')}"
    return name


def _ground_truth_items(project: Project):
    return (
        Item.objects.filter(project=project, status=ItemStatus.DONE)
        .order_by("id")
        .values_list(
            "id", "original_name", "width", "height", "split", "image_format", "file"
        )
    )


def _ground_truth_annotations(project: Project):
    return (
        Annotation.objects.filter(item__project=project, item__status=ItemStatus.DONE)
        .order_by("item_id", "id")
        .values_list("item_id", "kind", "label", "geometry", "area")
    )


def coco_chunks(*, project: Project, progress: Progress | None = None) -> Iterator[str]:
    """The COCO document of the project's ground truth as text chunks.

    Memory stays bounded: rows are read with server-side iterators and written one
    by one. Annotation ids are renumbered 1..N in (image, shape) order so that an
    export -> import -> export round trip is byte-identical. Images carry their
    split and size; boxes have an empty segmentation, polygons one ring.
    """
    labels = list(project.labels)
    category_ids = {name: i + 1 for i, name in enumerate(labels)}
    head = {
        "info": {
            "description": f"alweb export of project {project.pk}",
            "version": "1.0",
        },
        "licenses": [],
        "categories": [
            {"id": i + 1, "name": name, "supercategory": ""}
            for i, name in enumerate(labels)
        ],
    }
    yield json.dumps(head)[:-1] + ', "images": ['
    total_items = max(1, export_item_count(project=project))
    for n, (pk, name, width, height, split, fmt, _file) in enumerate(
        _ground_truth_items(project).iterator(chunk_size=2000)
    ):
        image = {
            "id": pk,
            "file_name": coco_file_name(pk, name, fmt),
            "width": width,
            "height": height,
            "split": split,
        }
        yield ("," if n else "") + json.dumps(image)
        if progress and n % 2000 == 0:
            progress(0.3 * n / total_items)
    yield '], "annotations": ['
    total = max(
        1,
        Annotation.objects.filter(
            item__project=project, item__status=ItemStatus.DONE
        ).count(),
    )
    n = 0
    for item_id, kind, label, geometry, area in _ground_truth_annotations(
        project
    ).iterator(chunk_size=5000):
        category = category_ids.get(label)
        if category is None:
            continue
        if kind == "polygon":
            points = geometry.get("points") or []
            bbox = list(polygon_bbox(points)) if points else [0, 0, 0, 0]
            segmentation = [[c for point in points for c in point]]
        else:
            bbox = list(geometry.get("bbox") or [0, 0, 0, 0])
            segmentation = []
        n += 1
        record = {
            "id": n,
            "image_id": item_id,
            "category_id": category,
            "bbox": bbox,
            "area": area,
            "segmentation": segmentation,
            "iscrowd": 0,
        }
        yield ("," if n > 1 else "") + json.dumps(record)
        if progress and n % 10000 == 0:
            progress(0.3 + 0.7 * n / total)
    yield "]}\n"


def _yolo_lines(shapes, labels: dict[str, int], width, height, segment: bool):
    lines = []
    for kind, label, geometry in shapes:
        cls = labels.get(label)
        if cls is None:
            continue
        if segment:
            points = (
                geometry["points"]
                if kind == "polygon"
                else box_to_points(geometry["bbox"])
            )
            values = to_yolo_polygon(points, width, height)
        else:
            bbox = (
                polygon_bbox(geometry["points"])
                if kind == "polygon"
                else geometry["bbox"]
            )
            values = to_yolo_box(bbox, width, height)
        lines.append(" ".join([str(cls), *(f"{v:.6f}" for v in values)]))
    return lines


def yolo_write(*, project: Project, fileobj, progress: Progress | None = None) -> int:
    """Write the ground truth as a zip in ultralytics layout into `fileobj`:
    images/<split>/, labels/<split>/ (one .txt per image, empty = background) and
    data.yaml with relative paths. Detection labels when the project only has
    boxes, segmentation labels (boxes as 4-point polygons) otherwise. Images whose
    file is missing are left out and counted in data.yaml. Returns the image count.
    """
    import zipfile

    labels = {name: i for i, name in enumerate(project.labels)}
    segment = "polygon" in project.kinds
    storage = Item._meta.get_field("file").storage
    total = max(1, export_item_count(project=project))
    written = missing = 0
    annotations = _ground_truth_annotations(project).iterator(chunk_size=5000)
    pending = next(annotations, None)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, (pk, name, width, height, split, fmt, file_name) in enumerate(
            _ground_truth_items(project).iterator(chunk_size=2000)
        ):
            shapes = []
            while pending is not None and pending[0] <= pk:
                if pending[0] == pk:
                    shapes.append(pending[1:4])
                pending = next(annotations, None)
            stem = _UNSAFE.sub("_", name.rsplit(".", 1)[0])[:40].strip("_")
            base = f"{pk:08d}_{stem}" if stem else f"{pk:08d}"
            split = split or "train"
            try:
                with (
                    storage.open(file_name, "rb") as src,
                    zf.open(
                        f"images/{split}/{base}.{EXTENSIONS.get(fmt, 'bin')}", "w"
                    ) as dst,
                ):
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            except (OSError, ValueError):
                missing += 1
                continue
            text = "\n".join(_yolo_lines(shapes, labels, width, height, segment))
            zf.writestr(f"labels/{split}/{base}.txt", text + "\n" if text else "")
            written += 1
            if progress and n % 500 == 0:
                progress(n / total)
        lines = [f"# alweb export of project {project.pk}"]
        if missing:
            lines.append(f"# {missing} images missing on disk were left out")
        lines += [
            "path: .",
            "train: images/train",
            "val: images/val",
            "test: images/test",
            f"nc: {len(labels)}",
            "names:",
        ]
        # JSON strings are valid YAML double-quoted scalars (escapes included).
        lines += [f"  {i}: {json.dumps(name)}" for name, i in labels.items()]
        zf.writestr("data.yaml", "\n".join(lines) + "\n")
    return written


def export_start(*, project: Project, actor, fmt: str) -> Job:
    """Queue a background export (Job kind export). Raises Conflict while another
    export of the project is queued or running. Enqueues after commit."""
    from django_q.tasks import async_task

    job = jobs.job_create(
        project=project, kind=JobKind.EXPORT, actor=actor, params={"format": fmt}
    )
    transaction.on_commit(lambda: async_task("annotate.tasks.export_run", job.pk))
    return job


def export_job_run(*, job_id: int) -> None:
    """Run a queued export once: write the file to a temporary file, then store it
    under exports/ and record it in the job's result. A failure marks the job failed
    with the reason; no partial file is ever offered (the result names a file only
    once it is complete)."""
    if not jobs.job_claim(job_id):
        return
    job = Job.objects.select_related("project").get(pk=job_id)
    fmt = job.params.get("format")

    def progress(value: float) -> None:
        jobs.job_heartbeat(job_id, progress=value)

    stored = None
    try:
        with tempfile.TemporaryFile() as tmp:
            if fmt == "coco":
                for chunk in coco_chunks(project=job.project, progress=progress):
                    tmp.write(chunk.encode())
                ext = "json"
            elif fmt == "yolo":
                yolo_write(project=job.project, fileobj=tmp, progress=progress)
                ext = "zip"
            else:
                raise ValueError(f"unknown export format {fmt!r}")
            tmp.seek(0)
            stored = default_storage.save(
                f"exports/{job.project_id}/{uuid.uuid4().hex}.{ext}", File(tmp)
            )
    except Exception as exc:  # noqa: BLE001 - the job row records any failure
        logger.exception("export job %s failed", job_id)
        if stored:
            default_storage.delete(stored)
        jobs.job_finish(job_id, status=JobStatus.FAILED, error=str(exc) or repr(exc))
        return
    if not jobs.job_finish(
        job_id,
        status=JobStatus.SUCCEEDED,
        result={
            "file": stored,
            "format": fmt,
            "filename": f"project-{job.project_id}.{ext}",
        },
    ):
        default_storage.delete(stored)  # cancelled or reaped meanwhile
