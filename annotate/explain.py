"""Why an item is where it is in the queue, in words (from Item.priority_reason)."""

from ml.selection import STRATEGIES

COMPONENT_NAMES = {
    "uncertainty": "uncertainty",
    "informativeness": "informativeness",
    "rare": "rare class",
    "disagreement": "model disagreement",
    "instability": "box instability",
    "distance": "distance to labelled",
    "typicality": "typicality",
    "ood": "out of distribution",
}
# Components said in their own words, not in the list of scores.
_OWN_WORDS = {"ood_part"}


def _similar_words(reason: dict) -> str:
    ids = [str(i) for i in reason.get("similar_to") or []]
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    words = f"similar to item{'s' if len(ids) > 1 else ''} {shown}"
    if isinstance(reason.get("distance"), int | float):
        words += f" (distance {reason['distance']:.3f})"
    return words + ": sent to the front of the queue by a manager"


PICK_RANDOM = "random"
PICK_STRATEGY = "strategy"
PICK_OTHER = "other"


def pick_group(reason) -> str:
    """How an item was chosen for labelling, from the priority reason it had
    when it left the queue: "random" (a random control pick, a warm-up pick or
    the random strategy's: a uniform sample of the pool), "strategy" (ranked by
    the project's strategy) or "other" (pinned, demoted, similar to an item,
    or no reason: uploaded with labels, imported, labelled before any
    prioritisation)."""
    reason = reason if isinstance(reason, dict) else {}
    strategy = reason.get("strategy")
    if not strategy or reason.get("pin") or reason.get("similar_to"):
        return PICK_OTHER
    if reason.get("control") or reason.get("warmup") or strategy == "random":
        return PICK_RANDOM
    return PICK_STRATEGY


def priority_explanation(item) -> str:
    """One line for the label page and the items list: the strategy that placed
    the item, its rank in the batch or whether it is a random control pick, the
    model version, and the scores behind it. Empty before any prioritisation."""
    reason = item.priority_reason or {}
    if reason.get("similar_to"):
        return _similar_words(reason)
    if reason.get("pin") == "pinned":
        return "pinned to the front of the queue by a manager"
    if reason.get("pin") == "demoted":
        return "demoted to the back of the queue by a manager"
    strategy = reason.get("strategy")
    if not strategy:
        return ""
    parts = []
    if reason.get("control"):
        parts.append(
            "random control pick: a share of every batch is chosen at random so "
            "the strategy can be compared with chance"
        )
    elif reason.get("warmup") and reason.get("in_batch"):
        until = reason.get("warmup_until")
        enough = (
            f"{until} items are ground truth ({reason.get('ground_truth', 0)} now)"
            if until
            else "enough items are labelled for its model to judge"
        )
        parts.append(
            f"warm-up pick {reason['rank'] + 1}: {strategy} picks at random until "
            f"{enough}"
        )
    elif reason.get("in_batch"):
        parts.append(f"in the next batch of {strategy} (pick {reason['rank'] + 1})")
    elif reason.get("rank") is not None:
        parts.append(f"ordered by {strategy}, rank {reason['rank'] + 1}")
    else:
        parts.append(f"not ranked by {strategy} yet (no score)")
    if reason.get("cold_start"):
        parts.append("cold start, no model yet")
    elif reason.get("model_name"):
        parts.append(f"scored by {reason['model_name']}")
    components = reason.get("components") or {}
    shown = [
        f"{COMPONENT_NAMES.get(k, k)} {v:.2f}"
        for k, v in components.items()
        if isinstance(v, int | float) and k not in _OWN_WORDS
    ]
    if shown:
        parts.append(", ".join(shown))
    part = components.get("ood_part")
    if isinstance(part, int | float) and part > 0:
        parts.append(
            f"its OOD score counts in its informativeness (+{part:.2f}, the "
            "strategy's ood_weight)"
        )
    if isinstance(reason.get("ood"), int | float):
        flagged = " (above the drift threshold)" if reason.get("ood_flagged") else ""
        parts.append(f"out of distribution {reason['ood']:.2f}{flagged}")
    return "; ".join(parts)


def strategy_description(name: str) -> str:
    spec = STRATEGIES.get(name)
    return spec.description if spec else name
