"""Click-to-segment: a project's promptable segmentation weights (upload,
replace, delete) and one point prompt on an item's image giving one polygon."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from alweb.exceptions import Conflict
from alweb.files import files_delete_on_commit
from annotate.models import Item, Project
from annotate.services.events import event_log
from annotate.services.projects import project_lock
from ml.backends.ultralytics.segment import SAM_WEIGHT_NAMES, sam_weights_name_ok
from ml.geometry import GeometryError, validate_shape
from models_mgmt.models import Segmenter
from models_mgmt.services.backend import get_backend
from models_mgmt.services.versions import MAX_WEIGHTS_BYTES

NO_WEIGHTS = (
    "this project has no segmentation weights: an owner or developer can upload "
    "them on the Models page"
)
NO_OBJECT = "no object found at this point"


def _weights_problem(upload) -> str | None:
    name = getattr(upload, "name", "") or ""
    if not name.endswith(".pt") or not sam_weights_name_ok(name):
        return "file name must end with one of " + ", ".join(SAM_WEIGHT_NAMES)
    if len(name.rsplit("/", 1)[-1]) > 100:
        return "file name too long (at most 100 characters)"
    if upload.size > MAX_WEIGHTS_BYTES:
        return "file too large"
    head = upload.read(4)
    upload.seek(0)
    if head[:2] != b"PK" and head[:1] != b"\x80":
        return "not a PyTorch checkpoint"
    return None


def _storage():
    return Segmenter._meta.get_field("weights").storage


@transaction.atomic
def segmenter_upload(*, project: Project, actor, upload) -> Segmenter:
    """Store `upload` as the project's segmentation weights, replacing any
    earlier file (removed once this commits). Only owners/developers may call
    this (loading a .pt runs code). ValidationError({"file": why}) for a name
    ultralytics cannot tell the model by, a file too large or not a checkpoint."""
    problem = _weights_problem(upload)
    if problem:
        raise ValidationError({"file": problem})
    project_lock(project_id=project.pk)
    old = Segmenter.objects.filter(project=project).first()
    name = upload.name.rsplit("/", 1)[-1]
    if old is not None:
        files_delete_on_commit(storage=_storage(), names=[old.weights.name])
        old.delete()
    segmenter = Segmenter(
        project=project, file_name=name, size_bytes=upload.size, uploaded_by=actor
    )
    segmenter.weights.save(name, File(upload), save=False)
    segmenter.save()
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="segmenter_uploaded",
        file_name=name,
        size_bytes=upload.size,
        replaced=old is not None,
    )
    return segmenter


@transaction.atomic
def segmenter_delete(*, project: Project, actor) -> bool:
    """Remove the project's segmentation weights (the file goes once this
    commits); False when there were none."""
    project_lock(project_id=project.pk)
    old = Segmenter.objects.filter(project=project).first()
    if old is None:
        return False
    files_delete_on_commit(storage=_storage(), names=[old.weights.name])
    old.delete()
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="segmenter_deleted",
        file_name=old.file_name,
    )
    return True


def segmenter_files_delete_on_commit(*, project: Project) -> None:
    """Schedule removal of the project's segmentation weights once its
    deletion commits."""
    names = list(
        Segmenter.objects.filter(project=project).values_list("weights", flat=True)
    )
    files_delete_on_commit(storage=_storage(), names=names)


def _coordinate(value, *, field: str, limit: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError({field: "must be a number"})
    value = float(value)
    if not math.isfinite(value) or not 0 <= value <= limit:
        raise ValidationError({field: f"must lie inside the image (0 to {limit})"})
    return value


def segment_item_point(*, item: Item, x, y, label: str | None = None) -> dict:
    """The polygon (image pixels, checked by the project's shape rules) of the
    object a positive point prompt at (x, y) on `item`'s image selects, with
    `label` (the project's first label by default). One predict, inline.

    ValidationError for a point outside the image or not numbers, or a label
    not of the project; Conflict when the project has no segmentation weights
    or cannot draw polygons; ValidationError({"point": NO_OBJECT}) when the
    model finds nothing there."""
    project = item.project
    px = _coordinate(x, field="x", limit=item.width)
    py = _coordinate(y, field="y", limit=item.height)
    labels = list(project.labels)
    label = labels[0] if label in (None, "") else label
    if label not in labels:
        raise ValidationError({"label": "not a label of this project"})
    if "polygon" not in project.kinds:
        raise Conflict("this project does not draw polygons")
    segmenter = Segmenter.objects.filter(project=project).first()
    if segmenter is None or not _storage().exists(segmenter.weights.name):
        raise Conflict(NO_WEIGHTS)
    backend = get_backend()
    if not hasattr(backend, "segment_point"):
        raise Conflict("the configured ML backend cannot segment")
    points = backend.segment_point(
        weights=segmenter.weights.path,
        image=item.file.path,
        x=px,
        y=py,
        device=settings.ALWEB_ML_DEVICE,
    )
    if not points:
        raise ValidationError({"point": NO_OBJECT})
    try:
        return validate_shape(
            {"kind": "polygon", "label": label, "points": [list(p) for p in points]},
            width=item.width,
            height=item.height,
            labels=labels,
            kinds=list(project.kinds),
        )
    except GeometryError:
        raise ValidationError({"point": NO_OBJECT}) from None
