"""Validation and replacement of an item's annotation set (server-side geometry)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

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


# No savepoint inside a caller's transaction (two statements fewer while
# SQLite's write lock is held): an error here rolls the caller back as well.
@transaction.atomic(savepoint=False)
def annotations_replace(
    *, item: Item, shapes: list[dict], author, item_updates: dict | None = None
) -> int:
    """Make `shapes` (already validated) the item's annotation set; bump its version.

    A shape that names the id of one of the item's model pre-annotations and is
    unchanged (same label and geometry) keeps its model source and confidence
    and is marked accepted (ground truth); every other shape is a human shape
    by `author`. `item_updates`: more of the item's fields to set in the same
    UPDATE (a submit's status). Returns the item's new version.
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
                accepted=keep_model,
                author=None if keep_model else author,
            )
        )
    Annotation.objects.filter(item=item).delete()
    Annotation.objects.bulk_create(rows)
    Item.objects.filter(pk=item.pk).update(
        version=F("version") + 1, **(item_updates or {})
    )
    item.refresh_from_db(fields=["version"])
    return item.version


def annotations_clear(*, item_ids, source: str | None = None, chunk: int = 5000):
    """Delete the annotations of these items (only those of `source` when given;
    of source "model" the predictions only, never the accepted ones, which are
    ground truth), `chunk` ids per query. The caller's transaction makes it all
    or nothing."""
    item_ids = list(item_ids)
    for start in range(0, len(item_ids), chunk):
        rows = Annotation.objects.filter(item_id__in=item_ids[start : start + chunk])
        if source is not None:
            rows = rows.filter(source=source)
        if source == AnnotationSource.MODEL:
            rows = rows.filter(accepted=False)
        rows.delete()


_ROW_FIELDS = (
    "item",
    "kind",
    "label",
    "geometry",
    "area",
    "source",
    "model_version_id",
    "confidence",
    "class_scores",
    "model_name",
    "accepted",
    "author",
    "created_at",
    "updated_at",
)


class AnnotationRows:
    """Validated shapes written as Annotation rows, `batch` rows per executemany:
    the bulk path of a file import (500,000 shapes), where bulk_create's per-row
    model instances and per-value SQL compilation cost ten times the insert
    (bench/import_coco.py). Values are prepared by the fields themselves
    (get_db_prep_save: JSON, datetimes), so every engine gets what the ORM would
    send; each shape becomes its row tuple at once (no dict or list of it stays
    alive for the garbage collector to walk). Call `add` per shape and `flush`
    at the end, inside the transaction; sends no signals (as bulk_create)."""

    def __init__(
        self,
        *,
        source: str,
        author=None,
        model_version_id=None,
        model_name: str = "",
        batch: int = 5000,
    ):
        meta = Annotation._meta
        fields = [meta.get_field(name) for name in _ROW_FIELDS]
        self._connection = connection = connections[router.db_for_write(Annotation)]
        quote = connection.ops.quote_name
        self._sql = (
            f"INSERT INTO {quote(meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        self._geometry = meta.get_field("geometry")
        stamp = meta.get_field("created_at").get_db_prep_save(
            timezone.now(), connection
        )
        # The values every row shares, after kind, label, geometry, area and
        # confidence: source, model version, class scores, model name,
        # accepted (never: a file's shapes are human or predictions), author,
        # timestamps.
        self._shared = (
            meta.get_field("source").get_db_prep_save(source, connection),
            model_version_id,
        )
        self._tail = (
            meta.get_field("class_scores").get_db_prep_save(None, connection),
            model_name[:100],
            False,
            getattr(author, "pk", None),
            stamp,
            stamp,
        )
        self._model = source == AnnotationSource.MODEL
        self._batch = batch
        self._rows: list[tuple] = []
        self.written = 0

    def add(self, item_id: int, shape: dict) -> None:
        self._rows.append(
            (
                item_id,
                shape["kind"],
                shape["label"],
                self._geometry.get_db_prep_save(
                    shape_geometry(shape), self._connection
                ),
                float(shape.get("area", 0.0)),
                *self._shared,
                shape.get("confidence") if self._model else None,
                *self._tail,
            )
        )
        if len(self._rows) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            with self._connection.cursor() as cursor:
                cursor.executemany(self._sql, self._rows)
            self.written += len(self._rows)
            self._rows = []
