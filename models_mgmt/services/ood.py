"""OOD scores for scoring runs: the best model's embeddings of the train split
as ml.ood's reference, and each scored item's OOD score against it."""

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from annotate.selectors_loop import train_embeddings_by_model, train_items_to_embed
from annotate.services.predictions import item_embeddings_store
from ml import ood
from runs.db import retry_busy

# The train items (first by id) whose embeddings make the reference: each is
# embedded once per model (stored on the item with scored_by), and the fit is
# O(n^2 d) (1,000 x 256: well under a second).
OOD_REFERENCE_MAX = 1000


def ood_reference_prepare(
    *,
    project,
    model_version_id: int,
    embed: Callable[[list], Iterable],
    batch: int,
    heartbeat: Callable[[int], None] = lambda n: None,
) -> ood.OODReference | None:
    """Embed the reference train items that `model_version_id` has not embedded
    yet (`embed(items)` yields one prediction with `.embedding` per item, in
    order), store those embeddings on the items, and fit ml.ood's reference on
    all of them. None with fewer than two train embeddings. `heartbeat(done)`
    runs after each stored batch (it may raise to stop the run)."""
    todo = train_items_to_embed(
        project=project, model_version_id=model_version_id, limit=OOD_REFERENCE_MAX
    )
    done = 0
    stream = iter(embed(todo)) if todo else iter(())  # one model load for all
    for start in range(0, len(todo), batch):
        items = todo[start : start + batch]
        found = {}
        for item in items:
            emb = next(stream).embedding
            found[item.pk] = list(emb) if emb else None
        retry_busy(
            lambda found=found: item_embeddings_store(
                project=project, embeddings=found, model_version_id=model_version_id
            )
        )
        done += len(items)
        heartbeat(done)
    rows = train_embeddings_by_model(
        project=project, model_version_id=model_version_id, limit=OOD_REFERENCE_MAX
    )
    sizes = {len(r) for r in rows if isinstance(r, list)}
    if len(sizes) != 1:
        return None
    rows = [r for r in rows if isinstance(r, list) and r]
    if len(rows) < 2:
        return None
    return ood.fit_reference(np.asarray(rows, dtype=np.float64))


def ood_percentiles(
    reference: ood.OODReference | None, embeddings: Sequence
) -> list[float | None]:
    """Each embedding's OOD score in [0, 1]: ml.ood's percentile, the share of
    train items whose own leave-one-out kNN distance is at most the item's
    (about 5 % of items drawn like the training set score above 0.95). None
    without a reference, an embedding, or for one of another size."""
    out: list[float | None] = [None] * len(embeddings)
    if reference is None:
        return out
    dim = reference.train.shape[1]
    rows = [i for i, e in enumerate(embeddings) if e and len(e) == dim]
    if not rows:
        return out
    found = ood.ood_scores(reference, np.asarray([embeddings[i] for i in rows]))
    for i, value in zip(rows, found.percentile, strict=True):
        out[i] = round(float(value), 6)
    return out
