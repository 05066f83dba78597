"""Ground truth of annotate's items as ml/ types, and run directories."""

import shutil
from pathlib import Path

from django.conf import settings

from annotate.models import Annotation, Item
from ml.types import BoxShape, GroundTruthImage, PolygonShape


def ground_truth_images(
    *, item_ids: list[int], split_of: dict[int, str]
) -> list[GroundTruthImage]:
    """GroundTruthImage for each item id (annotations as stored), in id order."""
    shapes: dict[int, list] = {i: [] for i in item_ids}
    for ann in Annotation.objects.filter(item_id__in=item_ids).order_by("id"):
        geo = ann.geometry
        if ann.kind == "box":
            shapes[ann.item_id].append(BoxShape(ann.label, tuple(geo["bbox"])))
        else:
            points = tuple(tuple(p) for p in geo["points"])
            shapes[ann.item_id].append(PolygonShape(ann.label, points))
    images = []
    for item in Item.objects.filter(pk__in=item_ids).order_by("id"):
        images.append(
            GroundTruthImage(
                path=item.file.path,
                width=item.width,
                height=item.height,
                shapes=tuple(shapes[item.pk]),
                split=split_of[item.pk],
            )
        )
    return images


def run_dir(kind: str, ident: int, *, fresh: bool = True) -> Path:
    """A private working directory for one run (emptied when `fresh`)."""
    path = Path(settings.VAR_DIR) / "runs" / f"{kind}-{ident}"
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
