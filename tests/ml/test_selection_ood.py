"""The stored OOD score as a component of the hybrid strategy: ood_weight 0
(the default) changes nothing, a weight raises out-of-distribution items into
the batch and the pick says how much the score counted."""

import numpy as np
import pytest

from annotate.explain import priority_explanation
from ml.selection import Candidate, select, validate_strategy_params

PLAIN = {"dedup": 0, "control_share": 0, "warmup": 0, "batch_size": 5}


def _pool(with_ood: bool):
    """40 items on a circle of embeddings; uncertainty falls with the id, and
    the five least uncertain (ids 35-39) are far out of distribution."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(40):
        angle = 2 * np.pi * i / 40
        emb = (float(np.cos(angle)), float(np.sin(angle)), float(rng.normal(0, 0.01)))
        comp = {"ood": 0.99 if i >= 35 else 0.1} if with_ood else {}
        out.append(Candidate(i, 0.9 - i / 50, emb, comp))
    return out


def test_weight_zero_leaves_the_selection_exactly_as_without_ood():
    plain = select("hybrid", _pool(False), PLAIN, 0, labelled=500)
    stored = select("hybrid", _pool(True), PLAIN, 0, labelled=500)
    assert stored.picks == plain.picks
    assert all("ood" not in p.components for p in stored.picks.values())


def test_a_weight_raises_out_of_distribution_items_and_says_so():
    plain = select("hybrid", _pool(True), PLAIN, 0, labelled=500)
    assert not set(plain.batch()) & set(range(35, 40))
    weighted = select("hybrid", _pool(True), {**PLAIN, "ood_weight": 0.8}, 0)
    assert set(weighted.batch()) & set(range(35, 40))
    pick = weighted.picks[39]
    assert pick.components["ood_part"] == pytest.approx(0.8 * 0.99)
    assert weighted.picks[0].components["ood_part"] == pytest.approx(0.08)
    reason = {
        "strategy": "hybrid",
        "rank": pick.rank,
        "in_batch": pick.in_batch,
        "components": pick.components,
        "ood": 0.99,
    }
    words = priority_explanation(type("I", (), {"priority_reason": reason})())
    assert "its OOD score counts in its informativeness (+0.79" in words
    assert "ood_part" not in words


def test_an_item_without_an_ood_score_gets_no_part():
    cands = _pool(True)
    cands[39] = Candidate(39, cands[39].uncertainty, cands[39].embedding, {})
    weighted = select("hybrid", cands, {**PLAIN, "ood_weight": 0.5}, 0)
    assert "ood_part" not in weighted.picks[39].components


@pytest.mark.parametrize("bad", [1.5, -0.1, "high", True])
def test_a_bad_ood_weight_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="params.ood_weight"):
        validate_strategy_params("hybrid", {"ood_weight": bad})
