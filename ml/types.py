"""Frozen value types exchanged between the apps and the ML core (pixel coords)."""

from __future__ import annotations

from dataclasses import dataclass

BBox = tuple[float, float, float, float]
"""An axis-aligned box as (x, y, w, h) in pixels, origin top-left."""

Point = tuple[float, float]

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class BoxShape:
    """A labelled axis-aligned box; ``bbox`` is (x, y, w, h) in pixels."""

    label: str
    bbox: BBox

    @property
    def kind(self) -> str:
        return "box"

    def bounds(self) -> BBox:
        return self.bbox


@dataclass(frozen=True)
class PolygonShape:
    """A labelled simple polygon; ``points`` is the open exterior ring in pixels."""

    label: str
    points: tuple[Point, ...]

    @property
    def kind(self) -> str:
        return "polygon"

    def bounds(self) -> BBox:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


Shape = BoxShape | PolygonShape


@dataclass(frozen=True)
class Detection:
    """One predicted object.

    ``confidence`` is the score of ``label``; ``class_scores`` holds one
    independent sigmoid score per class of the model (index = class id), so
    they do not sum to 1. ``points`` is the polygon of segmentation models,
    else None.
    """

    label: str
    confidence: float
    class_scores: tuple[float, ...]
    bbox: BBox
    points: tuple[Point, ...] | None = None

    def to_shape(self) -> Shape:
        """The detection as an editable shape (polygon when the model gave one)."""
        if self.points and len(self.points) >= 3:
            return PolygonShape(self.label, self.points)
        return BoxShape(self.label, self.bbox)


@dataclass(frozen=True)
class ImagePrediction:
    """All detections (and optionally an embedding) for one image."""

    path: str
    width: int
    height: int
    detections: tuple[Detection, ...]
    embedding: tuple[float, ...] | None = None
    # ml.embeddings.pixel_embedding of the image, when the backend computed
    # it from the pixels it decoded anyway (None: compute it from the path).
    pixel_embedding: tuple[float, ...] | None = None


@dataclass(frozen=True)
class GroundTruthImage:
    """An approved image with its shapes and its (never changing) split."""

    path: str
    width: int
    height: int
    shapes: tuple[Shape, ...]
    split: str

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError("width and height must be positive")
