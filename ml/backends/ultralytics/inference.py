"""Predict with per-box class-score vectors, and embed images, with ultralytics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ml.backends.ultralytics.offline import build_base, require_offline
from ml.types import Detection, ImagePrediction


@lru_cache(maxsize=1)
def _predictor_classes() -> dict[str, type]:
    """Predictors that attach per-box class-score vectors (and embeddings).

    Built lazily so that importing this module does not import ultralytics.
    """
    import torch
    from ultralytics.models.yolo.detect import DetectionPredictor
    from ultralytics.models.yolo.segment import SegmentationPredictor
    from ultralytics.utils import nms, ops

    class ClassScoresMixin:
        """Re-runs NMS with ``return_idxs=True`` to keep each box's anchor index.

        The Detect head's inference output is (B, 4 + nc [+ extra], anchors)
        of independent sigmoid scores, so ``raw[b, 4:4+nc, idx]`` is the full
        class-score vector of the kept box. End-to-end (NMS-free) heads emit
        only (B, k, 6) rows; there the vector holds the box's confidence at
        its class and zeros elsewhere.
        """

        _embed_out: Any = None

        def postprocess(self, preds, img, orig_imgs, **kwargs):
            protos = None
            if self.args.task == "segment":
                protos = preds[0][1] if isinstance(preds[0], tuple) else preds[1]
                preds = preds[0]
            raw = preds[0] if isinstance(preds, list | tuple) else preds
            nc = len(self.model.names)
            end2end = bool(getattr(self.model, "end2end", False))
            dets, keep = nms.non_max_suppression(
                raw,
                self.args.conf,
                self.args.iou,
                self.args.classes,
                self.args.agnostic_nms,
                max_det=self.args.max_det,
                nc=nc,
                end2end=end2end,
                return_idxs=True,
            )
            if not isinstance(orig_imgs, list):
                orig_imgs = ops.convert_torch2numpy_batch(orig_imgs)[..., ::-1]
            emb = None
            if self._embed_out is not None:
                pooled = torch.nn.functional.adaptive_avg_pool2d(self._embed_out, 1)
                emb = pooled.flatten(1).float().cpu().numpy()
            results = []
            for b, (pred, idx) in enumerate(zip(dets, keep, strict=True)):
                idx = idx.long().view(-1)
                if end2end:
                    scores = torch.zeros((pred.shape[0], nc), device=pred.device)
                    scores[torch.arange(pred.shape[0]), pred[:, 5].long()] = pred[:, 4]
                else:
                    scores = raw[b, 4 : 4 + nc, idx].T
                args = (pred, img, orig_imgs[b], self.batch[0][b])
                if protos is None:
                    r = self.construct_result(*args)
                else:
                    r, kept = self._segment_result(*args, protos[b])
                    scores = scores[kept]
                r.class_scores = scores.float().cpu().numpy()
                r.embedding = None if emb is None else emb[b]
                results.append(r)
            self._embed_out = None
            return results

        def _segment_result(self, pred, img, orig_img, img_path, proto):
            # SegmentationPredictor.construct_result drops boxes whose mask is
            # empty, which would misalign the score rows; redo it with the
            # kept mask in hand.
            from ultralytics.engine.results import Results

            kept = torch.ones(pred.shape[0], dtype=torch.bool, device=pred.device)
            masks = None
            if pred.shape[0]:
                masks = ops.process_mask(
                    proto, pred[:, 6:], pred[:, :4], img.shape[2:], upsample=True
                )
                pred[:, :4] = ops.scale_boxes(
                    img.shape[2:], pred[:, :4], orig_img.shape
                )
                kept = masks.amax((-2, -1)) > 0
                pred, masks = pred[kept], masks[kept]
            r = Results(
                orig_img,
                path=img_path,
                names=self.model.names,
                boxes=pred[:, :6],
                masks=masks,
            )
            return r, kept

        def capture_embeddings(self) -> Any:
            """Pool the second-to-last layer (as ``YOLO.embed`` does) on every batch."""
            net = self.model.model
            layer = net.model[len(net.model) - 2]

            def hook(_module, _inputs, output) -> None:
                self._embed_out = output

            return layer.register_forward_hook(hook)

    class ScoringDetectionPredictor(ClassScoresMixin, DetectionPredictor):
        pass

    class ScoringSegmentationPredictor(ClassScoresMixin, SegmentationPredictor):
        pass

    return {
        "detect": ScoringDetectionPredictor,
        "segment": ScoringSegmentationPredictor,
    }


def _to_prediction(
    result: Any, names: dict[int, str], path: str, pixel: bool = False
) -> ImagePrediction:
    # Whole arrays to Python lists at once (not a float() per element): with
    # conf 0.001 an image keeps ~50 boxes and this ran per value.
    h, w = (int(v) for v in result.orig_shape)
    boxes = result.boxes
    n = 0 if boxes is None else len(boxes)
    detections = []
    if n:
        import numpy as np

        xyxy = boxes.xyxy.cpu().numpy().astype("float64")
        xyxy[:, 0::2] = xyxy[:, 0::2].clip(0.0, w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clip(0.0, h)
        # (x, y, w, h) rounded to 2 decimals, all boxes in one numpy call.
        # numpy scales by 100 and rounds half to even, round() rounds the
        # exact value: they can differ in the last digit in rare ties; on
        # 200,000 random float32 coordinates they agreed on every one.
        xywh = np.round(np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]), 2)
        confs = boxes.conf.cpu().numpy().tolist()
        classes = boxes.cls.cpu().numpy().astype("int64").tolist()
        class_scores = result.class_scores.tolist()
        polygons = result.masks.xy if result.masks is not None else None
        for i, bbox in enumerate(xywh.tolist()):
            points = None
            if polygons is not None and len(polygons[i]) >= 3:
                poly = np.asarray(polygons[i], dtype=np.float64)
                points = tuple(map(tuple, np.round(poly, 2).tolist()))
            detections.append(
                Detection(
                    label=names[classes[i]],
                    confidence=confs[i],
                    class_scores=tuple(class_scores[i]),
                    bbox=tuple(bbox),
                    points=points,
                )
            )
    emb = getattr(result, "embedding", None)
    return ImagePrediction(
        path=path,
        width=w,
        height=h,
        detections=tuple(detections),
        embedding=None if emb is None else _stored_embedding(emb),
        pixel_embedding=_decoded_pixel_embedding(result.orig_img, path)
        if pixel
        else None,
    )


# Suffixes whose files ultralytics (OpenCV) decodes to exactly the 8-bit RGB
# values Pillow gives ml.embeddings.pixel_embedding(path): a PNG in any 8-bit
# mode (RGB, RGBA, L, P, LA). Not JPEG: pixel_embedding(path) lets the JPEG
# decoder downscale while decoding (draft), which gives slightly different
# values than shrinking the full decode.
_SAME_DECODE_SUFFIXES = (".png",)


def _decoded_pixel_embedding(orig_img: Any, path: str) -> tuple[float, ...] | None:
    """The pixel embedding from the BGR array the predictor decoded (about
    0.4 ms for 320x240 against 1.3 ms to read the file again), or None where
    it would differ from the one read from the file, which the OOD reference
    of the train split uses."""
    import numpy as np
    from PIL import Image

    from ml.embeddings import pixel_embedding

    if not str(path).lower().endswith(_SAME_DECODE_SUFFIXES):
        return None
    arr = np.asarray(orig_img)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        return None
    return pixel_embedding(Image.fromarray(np.ascontiguousarray(arr[:, :, ::-1])))


EMBEDDING_DECIMALS = 5


def _stored_embedding(emb: Any) -> tuple[float, ...]:
    """The pooled features rounded to EMBEDDING_DECIMALS: float32 holds about
    7 significant digits, but each value printed at full float64 length made
    the stored JSON twice as long and about 2x slower to write and 4x slower
    to read (500 images x 256 values: 5.1 KB vs 2.3 KB each, 0.15 s vs 0.07 s
    to encode), and distances do not need the extra digits."""
    import numpy as np

    return tuple(
        np.round(np.asarray(emb, dtype=np.float64), EMBEDDING_DECIMALS).tolist()
    )


def score_images(
    weights: Path,
    image_paths: Sequence[str | Path],
    *,
    imgsz: int = 320,
    conf: float = 0.05,
    iou: float = 0.7,
    device: str = "cpu",
    batch: int = 8,
    embed: bool = True,
    flip: bool = False,
) -> Iterator[ImagePrediction]:
    """Predict (and, with ``embed``, embed) images in one batched forward pass.

    Yields one ImagePrediction per path, in the order given and with the
    path as given. Each Detection has the full per-class score vector
    (``len == nc``); polygons come from segmentation models. The embedding
    pools the second-to-last layer exactly like ``YOLO.embed``; with it
    comes the image's pixel embedding where the decoded pixels give exactly
    the file's (PNG; see ``_decoded_pixel_embedding``). ``flip``
    predicts on the horizontally mirrored images instead (coordinates of the
    mirror image; see ml.scores.instability). Raises
    ValueError for a model task other than detect/segment; an unreadable
    image raises from ultralytics and ends the stream.
    """
    require_offline()
    model = build_base(weights=Path(weights))
    classes = _predictor_classes()
    if model.task not in classes:
        raise ValueError(f"unsupported model task {model.task!r}")
    paths = [str(p) for p in image_paths]
    names = dict(model.names)
    handle = hooked = None
    try:
        # ultralytics decodes a *list* source all at once into ONE batch, so
        # 10,000 paths would be one giant forward pass: feed it chunks.
        for start in range(0, len(paths), batch):
            chunk = paths[start : start + batch]
            source = _mirrored(chunk) if flip else chunk
            stream = model.predict(
                source=source,
                stream=True,
                imgsz=imgsz,
                conf=conf,
                iou=iou,
                device=device,
                batch=batch,
                predictor=classes[model.task],
                verbose=False,
                save=False,
            )
            # predict() has set up the predictor before the stream runs its
            # first forward pass; it is reused across chunks unless setup
            # args change, in which case the new one needs the hook too.
            if embed and model.predictor is not hooked:
                if handle is not None:
                    handle.remove()
                handle, hooked = model.predictor.capture_embeddings(), model.predictor
            for path, result in zip(chunk, stream, strict=True):
                yield _to_prediction(result, names, path, pixel=embed and not flip)
    finally:
        if handle is not None:
            handle.remove()


def _mirrored(paths: Sequence[str]) -> list:
    """The images of ``paths`` mirrored left-right, as BGR arrays (ultralytics'
    input convention for arrays)."""
    import numpy as np
    from PIL import Image, ImageOps

    out = []
    for path in paths:
        with Image.open(path) as img:
            rgb = ImageOps.mirror(img.convert("RGB"))
        out.append(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))
    return out


def predict(
    weights: Path,
    image_paths: Sequence[str | Path],
    *,
    imgsz: int = 320,
    conf: float = 0.05,
    device: str = "cpu",
    batch: int = 8,
) -> Iterator[ImagePrediction]:
    """Detections with per-class score vectors, without embeddings (streamed)."""
    return score_images(
        weights,
        image_paths,
        imgsz=imgsz,
        conf=conf,
        device=device,
        batch=batch,
        embed=False,
    )


def embed(
    weights: Path,
    image_paths: Sequence[str | Path],
    imgsz: int = 320,
    device: str = "cpu",
    batch: int = 8,
) -> list[tuple[float, ...]]:
    """One vector per image from ``YOLO.embed`` (second-to-last layer, pooled).

    Uses its own YOLO instance: a model whose predictor ran in embed mode
    keeps that mode for later predictions.
    """
    require_offline()
    paths = [str(p) for p in image_paths]
    model = build_base(weights=Path(weights))
    out: list[tuple[float, ...]] = []
    for start in range(0, len(paths), batch):  # one list = one batch, see above
        chunk = paths[start : start + batch]
        vectors = model.embed(source=chunk, imgsz=imgsz, device=device, verbose=False)
        out.extend(tuple(float(v) for v in t.flatten().tolist()) for t in vectors)
    return out


def embed_crops(
    weights: Path,
    crops: Sequence[tuple[str | Path, Sequence[float]]],
    *,
    imgsz: int = 128,
    pad: float = 0.1,
    device: str = "cpu",
    batch: int = 32,
) -> list[tuple[float, ...]]:
    """One vector per ``(image path, (x, y, w, h) box)``: a region embedding.

    The box, grown by ``pad`` times its width and height on each side and
    clipped to the image, is cut out and embedded like :func:`embed` (the
    detector's second-to-last layer, pooled), letterboxed to ``imgsz``.
    Keep ``imgsz`` >= 96: that layer has stride 32, and at 48-64 px it sees a
    crop as a 2 x 2 grid; on generated scenes regions embedded at 48-64 px
    found a rare kind about 6x less often than at 96-160 px (bench/RESULTS.md).
    Returns the vectors in order. Raises ValueError for a box with no area
    inside its image and OSError for an unreadable image.
    """
    import numpy as np
    from PIL import Image

    require_offline()
    model = build_base(weights=Path(weights))
    out: list[tuple[float, ...]] = []
    for start in range(0, len(crops), batch):
        arrays = []
        for path, (x, y, w, h) in crops[start : start + batch]:
            with Image.open(path) as img:
                rgb = img.convert("RGB")
            x1, y1 = max(0.0, x - pad * w), max(0.0, y - pad * h)
            x2 = min(float(rgb.width), x + w + pad * w)
            y2 = min(float(rgb.height), y + h + pad * h)
            box = (int(x1), int(y1), int(np.ceil(x2)), int(np.ceil(y2)))
            if box[2] <= box[0] or box[3] <= box[1]:
                raise ValueError(f"{path}: box {(x, y, w, h)} is outside the image")
            region = np.asarray(rgb.crop(box))[:, :, ::-1]  # BGR, as ultralytics wants
            arrays.append(np.ascontiguousarray(region))
        vectors = model.embed(source=arrays, imgsz=imgsz, device=device, verbose=False)
        out.extend(tuple(float(v) for v in t.flatten().tolist()) for t in vectors)
    return out
