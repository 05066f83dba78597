import numpy as np
import pytest
from PIL import Image

from ml.embeddings import EMBEDDING_DIM, pixel_embedding
from ml.selection import (
    STRATEGIES,
    Candidate,
    prioritise,
    select,
    validate_strategy_params,
)


def order(prio):
    return sorted(prio, key=lambda i: -prio[i])


def clustered(n_per=20, centres=((1, 0, 0), (0, 1, 0), (0, 0, 1)), seed=0):
    rng = np.random.default_rng(seed)
    cands, cluster_of = [], {}
    for c, centre in enumerate(centres):
        for _ in range(n_per):
            i = len(cands)
            vec = np.asarray(centre, float) + rng.normal(0, 0.05, 3)
            cands.append(Candidate(i, None, tuple(vec)))
            cluster_of[i] = c
    return cands, cluster_of


def test_registry_has_the_documented_strategies():
    assert set(STRATEGIES) == {
        "random",
        "entropy",
        "margin",
        "least_confidence",
        "committee",
        "stability",
        "diversity",
        "hybrid",
        "typicality",
    }
    assert STRATEGIES["margin"].uncertainty_method == "margin"
    assert STRATEGIES["hybrid"].method_for({"method": "margin"}) == "margin"
    assert STRATEGIES["diversity"].needs_embeddings


def test_random_is_deterministic_per_seed_and_independent_of_input_order():
    cands = [Candidate(i) for i in range(50)]
    a = prioritise("random", cands, {}, seed=1)
    b = prioritise("random", list(reversed(cands)), {}, seed=1)
    c = prioritise("random", cands, {}, seed=2)
    assert a == b
    assert order(a) != order(c)
    assert all(0.0 <= v < 1.0 for v in a.values())


def test_uncertainty_strategies_put_the_most_uncertain_first_and_unscored_last():
    cands = [
        Candidate(1, 0.2),
        Candidate(2, 0.9),
        Candidate(3, None),
        Candidate(4, 0.5),
    ]
    sel = select("entropy", cands, {}, seed=0)
    prio = sel.priorities
    assert order(prio) == [2, 4, 1, 3]
    # Priorities are ranks; the score behind each is kept with it.
    assert prio[2] == 1.0 and sel.picks[2].components["uncertainty"] == 0.9
    assert prio[3] < 0 and sel.picks[3].rank is None


def test_diversity_first_picks_cover_every_cluster():
    cands, cluster_of = clustered()
    prio = prioritise("diversity", cands, {}, seed=3)
    assert {cluster_of[i] for i in order(prio)[:3]} == {0, 1, 2}
    assert len(set(prio.values())) == len(cands)  # a strict ranking


def test_diversity_starts_away_from_already_labelled_items():
    cands, cluster_of = clustered()
    reference = [(1, 0, 0), (0, 1, 0)]
    prio = prioritise("diversity", cands, {}, seed=0, reference_embeddings=reference)
    assert cluster_of[order(prio)[0]] == 2


def test_diversity_ranks_candidates_without_embedding_last():
    cands, _ = clustered(n_per=3)
    cands.append(Candidate(99, None, None))
    # Without a control share: a random control pick may be any item.
    prio = prioritise("diversity", cands, {"control_share": 0}, seed=0)
    assert order(prio)[-1] == 99


def test_diversity_is_deterministic_and_order_independent():
    cands, _ = clustered()
    assert prioritise("diversity", cands, {"k": 5}, 7) == prioritise(
        "diversity", cands[::-1], {"k": 5}, 7
    )


def test_hybrid_alpha_one_follows_uncertainty_and_alpha_zero_follows_diversity():
    cands, cluster_of = clustered(n_per=5)
    scored = [
        Candidate(c.item_id, 0.9 if cluster_of[c.item_id] == 0 else 0.1, c.embedding)
        for c in cands
    ]
    plain = {"dedup": 0, "control_share": 0}
    by_unc = prioritise("hybrid", scored, {"alpha": 1.0, **plain}, 0)
    assert {cluster_of[i] for i in order(by_unc)[:5]} == {0}
    by_div = prioritise("hybrid", scored, {"alpha": 0.0, **plain}, 0)
    assert {cluster_of[i] for i in order(by_div)[:3]} == {0, 1, 2}


def test_validate_strategy_params_fills_defaults_and_names_bad_fields():
    assert validate_strategy_params("hybrid", {"alpha": 1}) == {
        "alpha": 1.0,
        "method": "entropy",
        "aggregate": "max",
        "score": "uncertainty",
        "shortlist": 3,
        "coverage": 0.0,
        "coverage_by": "typicality",
        "rare_boost": 1.0,
        "dedup": 0.05,
        "batch_size": 50,
        "control_share": 0.1,
        "warmup": 150,
        "ood_weight": 0.0,
    }
    assert validate_strategy_params("random", None) == {"batch_size": 50}
    # `k` is the old name of batch_size.
    assert validate_strategy_params("diversity", {"k": 7})["batch_size"] == 7
    cases = [
        ("nope", {}, "strategy"),
        ("random", {"alpha": 0.5}, "params.alpha"),
        ("hybrid", {"alpha": 1.5}, "params.alpha"),
        ("hybrid", {"warmup": -1}, "params.warmup"),
        ("entropy", {"warmup": 2.5}, "params.warmup"),
        ("hybrid", {"alpha": True}, "params.alpha"),
        ("diversity", {"k": 0}, "params.batch_size"),
        ("diversity", {"batch_size": 2.5}, "params.batch_size"),
        ("hybrid", {"control_share": 0.9}, "params.control_share"),
        ("hybrid", {"shortlist": 0}, "params.shortlist"),
        ("hybrid", {"score": "vibes"}, "params.score"),
        ("entropy", {"rare_boost": -1}, "params.rare_boost"),
        ("entropy", {"aggregate": "median"}, "params.aggregate"),
        ("hybrid", {"method": "bald"}, "params.method"),
        ("entropy", [1], "params"),
    ]
    for strategy, params, field in cases:
        with pytest.raises(ValueError) as exc:
            validate_strategy_params(strategy, params)
        assert str(exc.value).startswith(field)


def test_bad_candidates_raise():
    with pytest.raises(ValueError, match="duplicate"):
        prioritise("random", [Candidate(1), Candidate(1)], {}, 0)
    with pytest.raises(ValueError, match="different lengths"):
        prioritise(
            "diversity", [Candidate(1, None, (1, 0)), Candidate(2, None, (1,))], {}, 0
        )
    assert prioritise("diversity", [], {}, 0) == {}


def test_uncertainty_ranking_of_100k_candidates_orders_them_all():
    # Speed at this size is measured by bench/selection.py, not asserted here.
    rng = np.random.default_rng(0)
    unc = rng.random(100_000)
    cands = [Candidate(i, float(u)) for i, u in enumerate(unc)]
    prio = prioritise("entropy", cands, {"control_share": 0}, seed=0)
    assert len(prio) == 100_000
    assert order(prio)[:100] == list(np.argsort(-unc, kind="stable")[:100])


def test_diversity_over_10k_256d_embeddings_gives_a_strict_ranking():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(10_000, 256)).astype(np.float32)
    cands = [Candidate(i, None, tuple(row)) for i, row in enumerate(emb.tolist())]
    prio = prioritise("diversity", cands, {}, seed=0)
    assert len(prio) == 10_000 and len(set(prio.values())) == 10_000


def test_pixel_embedding_is_unit_length_and_tells_images_apart(tmp_path):
    def img(colour, name, stripe=False):
        im = Image.new("RGB", (40, 30), colour)
        if stripe:
            im.paste((255, 255, 255), (0, 0, 20, 30))
        path = tmp_path / name
        im.save(path)
        return pixel_embedding(path)

    red, red2 = img((200, 10, 10), "r.png"), img((205, 12, 10), "r2.jpg")
    blue = img((10, 10, 200), "b.png", stripe=True)
    assert len(red) == EMBEDDING_DIM
    assert np.linalg.norm(red) == pytest.approx(1.0)
    dist = lambda a, b: np.linalg.norm(np.subtract(a, b))  # noqa: E731
    assert dist(red, red2) < dist(red, blue)


def test_warmup_orders_exactly_as_random_until_enough_items_are_labelled():
    cands, _ = clustered(n_per=10)
    scored = [
        Candidate(c.item_id, (c.item_id % 7) / 7, c.embedding, {"rare": 0.5})
        for c in cands
    ]
    params = {"warmup": 150, "batch_size": 5}
    random_sel = select("random", scored, {"batch_size": 5}, 3)
    for labelled in (0, 50, 149):
        warm = select("hybrid", scored, params, 3, labelled=labelled)
        assert warm.warmup
        assert warm.batch() == random_sel.batch()
        assert order(warm.priorities) == order(random_sel.priorities)
        # The scores are still kept as the reason, none is a control pick.
        pick = warm.picks[warm.batch()[0]]
        assert pick.components["rare"] == 0.5 and not pick.control
    hybrid = select("hybrid", scored, {"batch_size": 5}, 3, labelled=150)
    for labelled in (150, 1000, None):
        sel = select("hybrid", scored, params, 3, labelled=labelled)
        assert not sel.warmup
        assert sel.batch() == hybrid.batch() != random_sel.batch()
