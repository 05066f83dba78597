"""Exports of ground truth: COCO JSON (streamed) and a YOLO dataset zip; background
export runs for large projects (runs.Job kind export).

Rows are read in keyset chunks that are fetched whole before anything else
happens: no read cursor stays open while a heartbeat writes (SQLite answers a
write from a stale read snapshot with "database is locked" at once) or while a
slow client downloads the stream.
"""

import json
import logging
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Iterator

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from alweb.files import files_delete_on_commit
from annotate import coco, formats
from annotate.models import AnnotationSource, Item, ItemStatus, Project
from annotate.selectors import item_count_ground_truth
from annotate.services.export_rows import (
    ITEM_CHUNK,
    Progress,
    annotations_of,
    coco_file_name,
    duplicated_names,
    ground_truth_item_chunks,
    labelling_of,
)
from annotate.services.exports_coco_zip import coco_zip_write
from annotate.services.exports_voc import voc_write
from ml.datasets import safe_stem, yolo_label_line
from ml.geometry import polygon_bbox
from ml.types import BoxShape, PolygonShape
from runs import queues
from runs.errors import RunStopped
from runs.models import Job, JobKind, JobStatus
from runs.selectors import run_get
from runs.services import (
    run_claim,
    run_create,
    run_enqueue,
    run_finish,
    run_heartbeat_or_stop,
)

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("coco", "yolo", "voc")


def export_sync_limit() -> int:
    """Projects with more ground-truth items than this export in the background."""
    return int(getattr(settings, "ALWEB_EXPORT_SYNC_MAX_ITEMS", 5000))


def _coco_annotation(row, category: int, prediction: bool = False) -> dict:
    item_id, kind, _label, geometry, area, pk, version, confidence, name = row
    if kind == "polygon":
        points = geometry.get("points") or []
        bbox = list(polygon_bbox(points)) if points else [0, 0, 0, 0]
        segmentation = [[c for point in points for c in point]]
    else:
        bbox = list(geometry.get("bbox") or [0, 0, 0, 0])
        segmentation = coco.box_segmentation(bbox)
    record = {
        "id": pk,
        "image_id": item_id,
        "category_id": category,
        "bbox": bbox,
        "area": area,
        "segmentation": segmentation,
        "iscrowd": 0,
        "shape": kind,
    }
    if version is not None:
        # In "annotations" a model shape is ground truth: a pre-annotation the
        # annotator submitted unchanged (its source says where it came from);
        # in "predictions" it is the model's output, with its score.
        if prediction:
            record["score"] = confidence if confidence is not None else 1.0
            record["model_version"] = version
        record["source"] = f"model:{version}"
        if name:
            record["model_name"] = name
    return record


def coco_chunks(
    *,
    project: Project,
    progress: Progress | None = None,
    predictions: bool = False,
    include_review: bool = False,
    image_url: str = "",
) -> Iterator[str]:
    """The COCO document of the project's ground truth as text chunks.

    Memory stays bounded: rows are read ITEM_CHUNK items at a time (the image ids
    written are kept as 8-byte integers, so the annotations written are exactly
    those of the images listed) and written one by one.

    Normalisation (what a COCO -> alweb -> COCO round trip may change): the
    annotation id is the annotation's own id (the same on every export, new once
    re-imported); file_name is the upload's relative path, with "~<item id>"
    before the extension when several items share it; each box carries its
    corner polygon as segmentation and `"shape": "box"` (polygons
    `"shape": "polygon"`, one ring each). Images carry split, status ("done", or
    "review" with `include_review`) and size; images labelled in alweb carry
    `labelling`, the throughput of each submit (export_rows.labelling_of: who,
    when, active seconds, shapes, model shapes offered and kept unchanged,
    agreement), which an import ignores. `predictions` adds a top-level
    "predictions" list in COCO results format (score, model_version, source,
    and model_name, the version as users know it, where the loop wrote it)
    holding the model annotations of the images listed. `image_url` (a URL
    with "{id}") gives each image its `coco_url`. `progress` is called
    between chunks, never while a read is open.
    """
    labels = list(project.labels)
    category_ids = {name: i + 1 for i, name in enumerate(labels)}
    head = {
        "info": {
            "description": f"alweb export of project {project.pk}",
            "version": "1.1",
        },
        "licenses": [],
        "categories": [
            {"id": i + 1, "name": name, "supercategory": ""}
            for i, name in enumerate(labels)
        ],
    }
    duplicated = duplicated_names(project)
    statuses = (
        (ItemStatus.DONE, ItemStatus.REVIEW) if include_review else (ItemStatus.DONE,)
    )
    yield json.dumps(head)[:-1] + ', "images": ['
    total_items = max(1, item_count_ground_truth(project=project))
    written = array("q")
    for chunk in ground_truth_item_chunks(project, statuses):
        parts = []
        labelling = labelling_of(row[0] for row in chunk)
        for pk, name, width, height, split, fmt, _file, path, status in chunk:
            image = {
                "id": pk,
                "file_name": coco_file_name(pk, path, name, fmt, duplicated),
                "width": width,
                "height": height,
                "split": split,
                "status": status,
            }
            if image_url:
                image["coco_url"] = image_url.replace("{id}", str(pk))
            if pk in labelling:
                image["labelling"] = labelling[pk]
            parts.append(("," if written else "") + json.dumps(image))
            written.append(pk)
        yield "".join(parts)
        if progress:
            progress(0.3 * min(1.0, len(written) / total_items))
    # The ground truth of an item is all its shapes: human ones and the model
    # pre-annotations submitted unchanged (which keep their model source, as
    # training takes them). Predictions: the model-source ones, with scores.
    sources = [("annotations", None)]
    if predictions:
        sources.append(("predictions", AnnotationSource.MODEL))
    for key, source in sources:
        yield f'], "{key}": ['
        n = 0
        for start in range(0, len(written), ITEM_CHUNK):
            parts = []
            for row in annotations_of(written[start : start + ITEM_CHUNK], source):
                category = category_ids.get(row[2])
                if category is None:
                    continue
                n += 1
                record = json.dumps(_coco_annotation(row, category, source is not None))
                parts.append(("," if n > 1 else "") + record)
            yield "".join(parts)
            if progress and source is None:
                progress(0.3 + 0.7 * min(1.0, (start + ITEM_CHUNK) / len(written)))
    yield "]}\n"


def coco_images_document(
    *,
    project: Project,
    progress: Progress | None = None,
    predictions: bool = False,
    include_review: bool = False,
) -> Iterator[str]:
    """The COCO document that goes with the images in a zip (coco_zip_write):
    as coco_chunks, without `coco_url` (file_name is relative to images/)."""
    return coco_chunks(
        project=project,
        progress=progress,
        predictions=predictions,
        include_review=include_review,
    )


def _yolo_lines(shapes, labels: dict[str, int], width, height, task: str):
    """The label file's lines (ml.datasets' rule: shapes of unknown labels and
    shapes with no area inside the image are left out)."""
    lines = []
    for shape in shapes:
        if shape.label not in labels:
            continue
        line = yolo_label_line(shape, labels[shape.label], width, height, task=task)
        if line is not None:
            lines.append(line)
    return lines


def _as_shape(kind: str, label: str, geometry: dict) -> BoxShape | PolygonShape:
    if kind == "box":
        return BoxShape(label, tuple(geometry["bbox"]))
    return PolygonShape(label, tuple(tuple(p) for p in geometry["points"]))


def yolo_write(*, project: Project, fileobj, progress: Progress | None = None) -> int:
    """Write the ground truth as a zip in ultralytics layout into `fileobj`:
    images/<split>/, labels/<split>/ (one .txt per image, empty = background) and
    data.yaml with paths relative to itself. Detection labels when the project only has
    boxes, segmentation labels (boxes as 4-point polygons) otherwise. Images whose
    file is missing are left out and counted in data.yaml. Returns the image count.
    """
    import zipfile

    labels = {name: i for i, name in enumerate(project.labels)}
    task = "segment" if "polygon" in project.kinds else "detect"
    storage = Item._meta.get_field("file").storage
    total = max(1, item_count_ground_truth(project=project))
    written = missing = seen = 0
    splits_written: set[str] = set()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for chunk in ground_truth_item_chunks(project):
            shapes_of: dict[int, list] = {}
            for item_id, kind, label, geometry, *_rest in annotations_of(
                row[0] for row in chunk
            ):
                shapes_of.setdefault(item_id, []).append(
                    _as_shape(kind, label, geometry)
                )
            for pk, name, width, height, split, fmt, file_name, *_rest in chunk:
                stem = safe_stem(name)
                base = f"{pk:08d}_{stem}" if stem else f"{pk:08d}"
                split = split or "train"
                try:
                    with (
                        storage.open(file_name, "rb") as src,
                        zf.open(
                            f"images/{split}/{base}.{formats.image_format(fmt).extension}",
                            "w",
                        ) as dst,
                    ):
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                except (OSError, ValueError):
                    missing += 1
                    continue
                shapes = shapes_of.get(pk, [])
                text = "\n".join(_yolo_lines(shapes, labels, width, height, task))
                zf.writestr(f"labels/{split}/{base}.txt", text + "\n" if text else "")
                splits_written.add(split)
                written += 1
            seen += len(chunk)
            if progress:
                progress(seen / total)
        lines = [f"# alweb export of project {project.pk}"]
        if missing:
            lines.append(f"# {missing} images missing on disk were left out")
        # No `path:` key: ultralytics then resolves the split folders against the
        # folder holding data.yaml, so training works from any directory
        # (`path: .` would mean the current directory).
        # ultralytics refuses a split folder that is missing or empty: an empty
        # split is left out (val, which training needs, falls back to train).
        lines.append("train: images/train")
        if "val" in splits_written:
            lines.append("val: images/val")
        else:
            lines += ["# no val items: validation uses the train images"]
            lines.append("val: images/train")
        if "test" in splits_written:
            lines.append("test: images/test")
        lines += [
            f"nc: {len(labels)}",
            "names:",
        ]
        # JSON strings are valid YAML double-quoted scalars (escapes included).
        lines += [f"  {i}: {json.dumps(name)}" for name, i in labels.items()]
        zf.writestr("data.yaml", "\n".join(lines) + "\n")
    return written


def exports_delete_on_commit(*, project: Project) -> None:
    """Schedule removal of the project's stored export files (exports/<id>/) once
    its deletion commits."""
    folder = f"exports/{project.pk}"
    try:
        _dirs, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    files_delete_on_commit(
        storage=default_storage, names=[f"{folder}/{name}" for name in names]
    )


def export_start(
    *, project: Project, actor, fmt: str, options: dict | None = None
) -> Job:
    """Queue a background export (runs.Job kind export, on the work queue). Raises
    Conflict while another export of the project is queued or running. Enqueues
    after commit."""
    job = run_create(
        project=project,
        kind=JobKind.EXPORT,
        task="annotate.tasks.export_run",
        queue=queues.WORK,
        actor=actor,
        params={"format": fmt, **(options or {})},
    )
    run_enqueue(job=job)
    return job


def export_job_run(*, job_id: int) -> None:
    """Run a queued export once: write the file to a temporary file, then store it
    under exports/ and record it in the job's result. A failure marks the job failed
    with the reason; a cancelled job stops at its next heartbeat (between chunks);
    no partial file is ever offered (the result names a file only once it is
    complete)."""
    if not run_claim(job_id):
        return
    job = run_get(run_id=job_id)
    fmt = job.params.get("format")

    def progress(value: float) -> None:
        run_heartbeat_or_stop(job_id, progress=value)

    stored = None
    try:
        with tempfile.TemporaryFile() as tmp:
            if fmt == "coco" and job.params.get("images"):
                coco_zip_write(
                    project=job.project,
                    fileobj=tmp,
                    document=coco_images_document(
                        project=job.project,
                        progress=lambda v: progress(0.5 * v),
                        predictions=bool(job.params.get("predictions")),
                        include_review=bool(job.params.get("include_review")),
                    ),
                    progress=progress,
                    include_review=bool(job.params.get("include_review")),
                )
                ext = "zip"
            elif fmt == "coco":
                for chunk in coco_chunks(
                    project=job.project,
                    progress=progress,
                    predictions=bool(job.params.get("predictions")),
                    include_review=bool(job.params.get("include_review")),
                    image_url=str(job.params.get("image_url") or ""),
                ):
                    tmp.write(chunk.encode())
                ext = "json"
            elif fmt == "yolo":
                yolo_write(project=job.project, fileobj=tmp, progress=progress)
                ext = "zip"
            elif fmt == "voc":
                voc_write(project=job.project, fileobj=tmp, progress=progress)
                ext = "zip"
            else:
                raise ValueError(f"unknown export format {fmt!r}")
            tmp.seek(0)
            stored = default_storage.save(
                f"exports/{job.project_id}/{uuid.uuid4().hex}.{ext}", File(tmp)
            )
    except RunStopped:
        logger.info("export run %s stopped: cancelled or reaped", job_id)
        return
    except Exception as exc:  # noqa: BLE001 - the job row records any failure
        logger.exception("export run %s failed", job_id)
        if stored:
            default_storage.delete(stored)
        run_finish(job_id, status=JobStatus.FAILED, error=str(exc) or repr(exc))
        return
    try:
        finished = run_finish(
            job_id,
            status=JobStatus.SUCCEEDED,
            result={
                "file": stored,
                "format": fmt,
                "filename": f"project-{job.project_id}.{ext}",
            },
        )
    except BaseException:
        default_storage.delete(stored)  # the reaper fails the run: offer nothing
        raise
    if not finished:
        default_storage.delete(stored)  # cancelled or reaped meanwhile
