"""Validation and replacement of an item's annotation set (server-side geometry)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from annotate.models import Annotation, AnnotationSource, Item
from annotate.shapes import shape_geometry
from ml.geometry import GeometryError, validate_shapes

_MODEL_PREFIX = "model:"


def shapes_validate(*, item: Item, shapes) -> list[dict]:
    """Validate API-shaped shapes against the item's image and project schema.

    Returns normalised shapes (clipped, rounded, with server-computed area) carrying
    the optional client `id`. Raises ValidationError({"annotations": reason}) naming
    the shape index; nothing is saved.
    """
    if not isinstance(shapes, list):
        raise ValidationError({"annotations": "must be a list of shapes"})
    project = item.project
    try:
        cleaned = validate_shapes(
            shapes,
            width=item.width,
            height=item.height,
            labels=project.labels,
            kinds=project.kinds,
            max_shapes=settings.ALWEB_MAX_SHAPES_PER_ITEM,
            max_points=settings.ALWEB_MAX_POLYGON_POINTS,
        )
    except GeometryError as exc:
        raise ValidationError({"annotations": str(exc)}) from None
    for raw, shape in zip(shapes, cleaned, strict=True):
        ident = raw.get("id") if isinstance(raw, dict) else None
        shape["id"] = (
            ident if isinstance(ident, int) and not isinstance(ident, bool) else None
        )
    return cleaned


def model_shapes_kept(*, item: Item, shapes: list[dict]) -> dict[str, int]:
    """What a submit of validated `shapes` does to the item's model
    pre-annotations: {"shape_count", "model_shapes" (those the item carries
    now), "model_kept" (those submitted unchanged, by id, as
    annotations_replace keeps them)}. Read before the annotations are replaced."""
    models_ = {
        a.pk: a
        for a in Annotation.objects.filter(item=item, source=AnnotationSource.MODEL)
    }
    kept = 0
    for shape in shapes:
        previous = models_.pop(shape.get("id"), None)
        if (
            previous is not None
            and previous.label == shape["label"]
            and previous.kind == shape["kind"]
            and previous.geometry == shape_geometry(shape)
        ):
            kept += 1
    return {
        "shape_count": len(shapes),
        "model_shapes": kept + len(models_),
        "model_kept": kept,
    }


@transaction.atomic
def annotations_replace(*, item: Item, shapes: list[dict], author) -> int:
    """Make `shapes` (already validated) the item's annotation set; bump its version.

    A shape that names the id of one of the item's model pre-annotations and is
    unchanged (same label and geometry) keeps its model source and confidence; every
    other shape is a human shape by `author`. Returns the item's new version.
    """
    existing = {a.pk: a for a in Annotation.objects.filter(item=item)}
    rows = []
    for shape in shapes:
        geometry = shape_geometry(shape)
        previous = existing.get(shape.get("id"))
        keep_model = (
            previous is not None
            and previous.source == AnnotationSource.MODEL
            and previous.label == shape["label"]
            and previous.kind == shape["kind"]
            and previous.geometry == geometry
        )
        rows.append(
            Annotation(
                item=item,
                kind=shape["kind"],
                label=shape["label"],
                geometry=geometry,
                area=shape.get("area", 0.0),
                source=previous.source if keep_model else AnnotationSource.HUMAN,
                model_version_id=previous.model_version_id if keep_model else None,
                confidence=previous.confidence if keep_model else None,
                class_scores=previous.class_scores if keep_model else None,
                author=None if keep_model else author,
            )
        )
    Annotation.objects.filter(item=item).delete()
    Annotation.objects.bulk_create(rows)
    Item.objects.filter(pk=item.pk).update(version=F("version") + 1)
    item.refresh_from_db(fields=["version"])
    return item.version


@transaction.atomic
def annotations_replace_many(
    *, shapes_of: dict[int, list[dict]], author, chunk: int = 500
) -> None:
    """Make each item's validated `shapes` its whole annotation set (human shapes
    by `author`), for many items at once: what annotations_replace does for a
    shape list without client ids, in a few queries per `chunk` items (a file
    import of 50,000 items). Bumps each item's version."""
    item_ids = list(shapes_of)
    for start in range(0, len(item_ids), chunk):
        ids = item_ids[start : start + chunk]
        Annotation.objects.filter(item_id__in=ids).delete()
        Annotation.objects.bulk_create(
            [
                Annotation(
                    item_id=item_id,
                    kind=shape["kind"],
                    label=shape["label"],
                    geometry=shape_geometry(shape),
                    area=shape.get("area", 0.0),
                    source=AnnotationSource.HUMAN,
                    author=author,
                )
                for item_id in ids
                for shape in shapes_of[item_id]
            ],
            batch_size=2000,
        )
        Item.objects.filter(pk__in=ids).update(version=F("version") + 1)
