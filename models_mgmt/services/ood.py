"""OOD scores for scoring runs: each scored item's distance to the train split
(ml.ood), on pixel embeddings (ml.embeddings).

Pixel embeddings, not the detector's: on generated scenes (bench/RESULTS.md,
#14) they flagged 99.7 % of another generator's images and 4.6 % of held-out
ones, the detector's pooled embedding only 56 % of the other generator's. They
need no model either, so the reference is the same whichever model scores.
"""

from collections.abc import Sequence

import numpy as np

from annotate.selectors_loop import train_items_for_reference
from ml import ood
from ml.embeddings import pixel_embedding

# The train items (first by id) whose pixel embeddings make the reference,
# computed once per scoring run (about 3-10 ms an image; the fit is O(n^2 d)).
OOD_REFERENCE_MAX = 500


def _embedding(path: str) -> tuple[float, ...] | None:
    try:
        return pixel_embedding(path)
    except (OSError, ValueError):  # a file gone or unreadable: no score
        return None


def ood_reference(*, project) -> ood.OODReference | None:
    """ml.ood's reference over the pixel embeddings of the project's first
    OOD_REFERENCE_MAX train items; None with fewer than two readable ones."""
    rows = [
        e
        for item in train_items_for_reference(project=project, limit=OOD_REFERENCE_MAX)
        if (e := _embedding(item.file.path)) is not None
    ]
    if len(rows) < 2:
        return None
    return ood.fit_reference(np.asarray(rows, dtype=np.float64))


def ood_percentiles(
    reference: ood.OODReference | None,
    paths: Sequence[str],
    embeddings: Sequence[tuple[float, ...] | None] | None = None,
) -> list[float | None]:
    """Each image's OOD score in [0, 1]: ml.ood's percentile, the share of
    train items whose own leave-one-out kNN distance is at most the image's
    (about 5 % of images drawn like the training set score above 0.95). None
    without a reference or for an unreadable file. ``embeddings`` are the
    images' pixel embeddings where the caller has them (None: read the file).
    """
    out: list[float | None] = [None] * len(paths)
    if reference is None:
        return out
    given = list(embeddings) if embeddings is not None else [None] * len(paths)
    embedded = [
        (i, e if e is not None else _embedding(p))
        for i, (p, e) in enumerate(zip(paths, given, strict=True))
    ]
    embedded = [(i, e) for i, e in embedded if e is not None]
    if not embedded:
        return out
    found = ood.ood_scores(reference, np.asarray([e for _, e in embedded]))
    for (i, _), value in zip(embedded, found.percentile, strict=True):
        out[i] = round(float(value), 6)
    return out
