"""Cheap pixel embeddings (colour histogram + grayscale thumbnail) for cold start."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

HIST_BINS = 8
THUMB_SIZE = 8
EMBEDDING_DIM = 3 * HIST_BINS + THUMB_SIZE * THUMB_SIZE
"""Length of every vector from :func:`pixel_embedding` (88)."""


def pixel_embedding(source: str | Path | Image.Image) -> tuple[float, ...]:
    """An L2-normalised vector describing an image's colours and layout.

    The first ``3 * HIST_BINS`` values are per-channel RGB histograms (share
    of pixels per bin); the rest a ``THUMB_SIZE``² grayscale thumbnail,
    centred and scaled so that brightness and contrast do not dominate.
    The two halves get equal weight. No model is needed, so diversity
    sampling works before the first model exists. Raises OSError (Pillow's
    UnidentifiedImageError included) when the file cannot be read.
    """
    if isinstance(source, Image.Image):
        return _embed(source)
    with Image.open(source) as img:
        # draft() lets the JPEG decoder downscale while decoding: far cheaper
        # than decoding a 12 MP photo only to shrink it to 32 px.
        img.draft("RGB", (64, 64))
        return _embed(img)


def pixel_embeddings(sources: Iterable[str | Path]) -> list[tuple[float, ...]]:
    """:func:`pixel_embedding` of each source, in order."""
    return [pixel_embedding(s) for s in sources]


def _embed(img: Image.Image) -> tuple[float, ...]:
    rgb = np.asarray(img.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR))
    hist = np.concatenate(
        [
            np.bincount(rgb[..., c].ravel() // (256 // HIST_BINS), minlength=HIST_BINS)
            for c in range(3)
        ]
    ).astype(np.float64)
    hist /= np.linalg.norm(hist)  # never zero: every pixel falls in some bin
    gray = np.asarray(
        img.convert("L").resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX),
        dtype=np.float64,
    ).ravel()
    gray -= gray.mean()
    norm = np.linalg.norm(gray)
    thumb = gray / norm if norm > 1e-9 else gray  # a flat image has no layout
    vec = np.concatenate([hist, thumb])
    vec /= np.linalg.norm(vec)
    return tuple(float(v) for v in vec)
