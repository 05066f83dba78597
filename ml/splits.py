"""Seeded, class-stratified assignment of newly approved items to train/val/test."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ml.types import SPLITS

BACKGROUND = ""
"""Pseudo-label under which items without any shape are stratified."""


def validate_split_ratios(ratios: Any) -> dict[str, float]:
    """Return ``{"train": .., "val": .., "test": ..}`` as floats.

    Raises ValueError naming the field when a key is missing or unknown, a
    value is not a finite non-negative number, the values do not sum to 1
    (within 1e-6), or train is 0.
    """
    if not isinstance(ratios, dict):
        raise ValueError("ratios: must be an object with train, val and test")
    unknown = sorted(set(ratios) - set(SPLITS), key=str)
    if unknown:
        raise ValueError(f"ratios.{unknown[0]}: unknown split")
    out: dict[str, float] = {}
    for split in SPLITS:
        if split not in ratios:
            raise ValueError(f"ratios.{split}: missing")
        v = ratios[split]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"ratios.{split}: must be a number")
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"ratios.{split}: must be a finite number >= 0")
        out[split] = float(v)
    if abs(sum(out.values()) - 1.0) > 1e-6:
        raise ValueError("ratios: train + val + test must sum to 1")
    if out["train"] <= 0:
        raise ValueError("ratios.train: must be greater than 0")
    return out


def _order_key(seed: int, item_id: int) -> bytes:
    # A hash rather than random.shuffle: the order of one item does not depend
    # on which other items arrive in the same batch.
    return hashlib.blake2b(f"{seed}:{item_id}".encode(), digest_size=8).digest()


def assign_splits(
    items: Sequence[tuple[int, frozenset[str]]],
    ratios: dict[str, float],
    seed: int,
    existing_counts: dict[str, dict[str, int]] | None = None,
) -> dict[int, str]:
    """Assign each new item a split, stratified by the labels it carries.

    ``items`` are ``(item_id, labels present on the item)`` and must not
    include items that already have a split (the caller keeps those stable);
    ``existing_counts[split][label]`` counts items already in each split that
    carry ``label`` (``BACKGROUND`` for items without shapes).

    Items carrying rarer labels are placed first (ties in a seeded hash
    order). Each item goes to the split whose count for the item's rarest
    label is furthest below its target share ``ratio * (assigned + 1)``;
    equal deficits prefer the larger ratio, then train, val, test. A split
    with ratio 0 never receives items. Deterministic for a given seed.
    Raises ValueError for bad ratios or duplicate item ids.
    """
    r = validate_split_ratios(ratios)
    counts: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    for split, per_label in (existing_counts or {}).items():
        if split not in counts:
            raise ValueError(f"existing_counts.{split}: unknown split")
        counts[split].update({k: int(v) for k, v in per_label.items()})

    ids = [item_id for item_id, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("items: duplicate item_id")
    keyed = [
        (item_id, frozenset(labels) or frozenset({BACKGROUND}))
        for item_id, labels in items
    ]
    totals: Counter[str] = Counter()
    for split in SPLITS:
        totals.update(counts[split])
    for _, labels in keyed:
        totals.update(labels)

    def rarest(labels: frozenset[str]) -> str:
        return min(labels, key=lambda lab: (totals[lab], lab))

    ordered = sorted(
        keyed, key=lambda it: (totals[rarest(it[1])], _order_key(seed, it[0]))
    )
    preference = {s: i for i, s in enumerate(SPLITS)}
    result: dict[int, str] = {}
    for item_id, labels in ordered:
        label = rarest(labels)
        assigned = sum(counts[s][label] for s in SPLITS)
        candidates = [s for s in SPLITS if r[s] > 0]
        split = max(
            candidates,
            key=lambda s: (
                r[s] * (assigned + 1) - counts[s][label],
                r[s],
                -preference[s],
            ),
        )
        result[item_id] = split
        for lab in labels:
            counts[split][lab] += 1
    return result
