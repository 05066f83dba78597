"""Click-to-segment's real path: MobileSAM built by ultralytics' own builder with
random weights (checkpoint=None), saved where SAM(path) loads it, prompted with
one point on a tiny image on the CPU, without touching the network."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests import network_guard


@pytest.fixture(scope="module")
def weights(tmp_path_factory, yolo_offline):
    import torch
    from ultralytics.models.sam.build import build_mobile_sam

    torch.manual_seed(0)
    model = build_mobile_sam(checkpoint=None)
    with torch.no_grad():
        # Random init scores every mask below SAM's confidence floor (0.25):
        # lift the IoU head's output so the predictor keeps the mask.
        model.mask_decoder.iou_prediction_head.layers[-1].bias.fill_(5.0)
    path = tmp_path_factory.mktemp("sam") / "mobile_sam.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    pixels = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("img") / "tiny.png"
    Image.fromarray(pixels).save(path)
    return path


@pytest.mark.slow
def test_a_point_prompt_gives_one_valid_polygon_inside_the_image(weights, image):
    from ml.backends.ultralytics.segment import segment_point
    from ml.geometry import validate_shape

    points = segment_point(weights=weights, image=image, x=80, y=60)
    assert points is not None and len(points) >= 3
    assert all(0 <= px <= 160 and 0 <= py <= 120 for px, py in points)
    shape = validate_shape(
        {"kind": "polygon", "label": "a", "points": [list(p) for p in points]},
        width=160,
        height=120,
        labels=["a"],
        kinds=["polygon"],
    )
    assert shape["area"] > 0
    # The same weights and image give the same polygon.
    assert segment_point(weights=weights, image=image, x=80, y=60) == points
    assert network_guard.pending() == []


def test_missing_or_misnamed_weights_are_refused_before_ultralytics_runs(
    tmp_path, yolo_offline, image
):
    from ml.backends.ultralytics.segment import segment_point

    # A bare name would make ultralytics download it: refused.
    with pytest.raises(FileNotFoundError):
        segment_point(weights="mobile_sam.pt", image=image, x=1, y=1)
    other = tmp_path / "weights.pt"
    other.write_bytes(b"not used")
    with pytest.raises(ValueError, match="must end with"):
        segment_point(weights=other, image=image, x=1, y=1)
    assert network_guard.pending() == []


def test_mask_polygon_takes_the_region_holding_the_point():
    from ml.backends.ultralytics.segment import mask_polygon

    mask = np.zeros((40, 60), dtype=bool)
    mask[5:15, 5:15] = True  # small, holds the point
    mask[20:38, 20:58] = True  # large
    points = mask_polygon(mask, 10, 10)
    xs, ys = zip(*points, strict=True)
    assert (min(xs), max(xs), min(ys), max(ys)) == (5, 14, 5, 14)
    points = mask_polygon(mask, 1, 1)  # outside both: the largest
    assert min(p[0] for p in points) == 20
    assert mask_polygon(np.zeros((4, 4), dtype=bool), 1, 1) is None
