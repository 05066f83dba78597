"""Similar-item mining: nearest unlabelled items by embedding (against brute
force), a rare kind found above its base rate, and sending the chosen items to
the front of the queue with the reason and an event."""

import hashlib

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from alweb.exceptions import Conflict
from annotate.explain import priority_explanation
from annotate.models import Event, Item, ItemStatus
from annotate.selectors_mining import K_MAX, item_similar, parse_k
from annotate.services.curation import PIN_PRIORITY
from annotate.services.mining import items_similar_prioritise
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def bulk_items(project, embeddings, *, status=ItemStatus.UNLABELED, tag="i"):
    """Item rows with the given embeddings (no image files: the selectors and
    services under test never open them)."""
    rows = []
    for n, emb in enumerate(embeddings):
        name = f"{tag}{project.pk}-{n}.png"
        rows.append(
            Item(
                project=project,
                file=f"items/{project.pk}/{name}",
                original_name=name,
                image_format="png",
                width=8,
                height=8,
                checksum=hashlib.sha256(name.encode()).hexdigest(),
                status=status,
                split="train" if status == ItemStatus.DONE else None,
                embedding=None if emb is None else [float(v) for v in emb],
            )
        )
    Item.objects.bulk_create(rows)
    return list(Item.objects.filter(project=project, original_name__startswith=tag))


def _brute_force(query, pool):
    """(id, cosine distance) of every pool item, nearest first, ties by id."""
    q = np.asarray(query, dtype=np.float64)
    q /= np.linalg.norm(q)
    out = []
    for item in pool:
        v = np.asarray(item.embedding, dtype=np.float64)
        out.append((1.0 - float(v @ q / np.linalg.norm(v)), item.pk))
    return sorted(out)


def test_similar_items_are_the_nearest_unlabelled_ones_in_order():
    project = make_project()
    rng = np.random.default_rng(7)
    pool = bulk_items(project, rng.normal(size=(60, 8)), tag="pool")
    done = bulk_items(project, rng.normal(size=(10, 8)), status="done", tag="gt")
    no_emb = bulk_items(project, [None, None], tag="bare")
    query = pool[3]
    found = item_similar(project=project, item_ids=[query.pk], k=12)
    expect = _brute_force(query.embedding, [i for i in pool if i.pk != query.pk])
    assert [r.item.pk for r in found] == [pk for _, pk in expect[:12]]
    assert [r.distance for r in found] == pytest.approx(
        [d for d, _ in expect[:12]], abs=1e-5
    )
    # Only the unlabelled pool: no ground truth, never the query, never bare items.
    everything = item_similar(project=project, item_ids=[query.pk], k=K_MAX)
    ids = {r.item.pk for r in everything}
    assert len(ids) == 59 and query.pk not in ids
    assert not ids & {i.pk for i in done + no_emb}
    # A done item may be the query (a labelled example).
    from_done = item_similar(project=project, item_ids=[done[0].pk], k=5)
    expect = _brute_force(done[0].embedding, pool)
    assert [r.item.pk for r in from_done] == [pk for _, pk in expect[:5]]


def _kinds(rng, n_pool, rare_share, dim=32, kinds=6, noise=0.6):
    """Embeddings of `kinds` common kinds and one rare kind (centres plus
    noise), `rare_share` of the pool rare; returns (pool, is_rare, example)."""
    centres = rng.normal(size=(kinds + 1, dim))
    n_rare = round(n_pool * rare_share)
    labels = np.array([kinds] * n_rare + list(rng.integers(0, kinds, n_pool - n_rare)))
    rng.shuffle(labels)
    pool = centres[labels] + noise * rng.normal(size=(n_pool, dim))
    example = centres[kinds] + noise * rng.normal(size=dim)
    return pool, labels == kinds, example


def test_a_rare_kind_is_found_far_above_its_base_rate():
    """Issue 14's figure at small scale: 2 % of a 1,000-item pool is a rare
    kind; from one labelled example the top 50 hold at least 5x the base rate."""
    project = make_project()
    rng = np.random.default_rng(14)
    pool, rare, example = _kinds(rng, 1000, 0.02, noise=1.5)
    items = bulk_items(project, pool, tag="pool")
    (labelled,) = bulk_items(project, [example], status="done", tag="example")
    rare_ids = {item.pk for item, r in zip(items, rare, strict=True) if r}
    found = item_similar(project=project, item_ids=[labelled.pk], k=50)
    hits = sum(r.item.pk in rare_ids for r in found)
    base = len(rare_ids) / len(items) * 50  # 1 expected by chance
    assert hits >= 5 * base, (hits, base)


def test_a_bucket_is_searched_by_its_centroid_or_as_a_union():
    project = make_project()
    a, b = bulk_items(project, [[1, 0, 0], [0, 1, 0]], status="done", tag="q")
    pool = bulk_items(
        project,
        [[1, 1, 0], [1, 0, 0.1], [0, 1, 0.1], [0, 0, 1]],
        tag="pool",
    )
    middle, near_a, near_b, far = (i.pk for i in pool)
    centroid = item_similar(project=project, item_ids=[a.pk, b.pk], k=4)
    assert [r.item.pk for r in centroid][0] == middle
    assert centroid[-1].item.pk == far
    union = item_similar(project=project, item_ids=[a.pk, b.pk], k=2, mode="union")
    assert {r.item.pk for r in union} == {near_a, near_b}


@pytest.mark.parametrize("k", ["0", "501", "abc", "-3", "1e3", str(2**64)])
def test_a_bad_k_is_refused_with_its_field(k):
    with pytest.raises(ValidationError) as exc:
        parse_k(k)
    assert "k" in exc.value.message_dict


def test_query_items_without_an_embedding_or_of_another_project_are_refused():
    project, other = make_project(name="A"), make_project(name="B")
    (bare,) = bulk_items(project, [None], tag="bare")
    (theirs,) = bulk_items(other, [[1.0, 0.0]], tag="theirs")
    with pytest.raises(Conflict, match="no embedding yet"):
        item_similar(project=project, item_ids=[bare.pk])
    with pytest.raises(ValidationError) as exc:
        item_similar(project=project, item_ids=[theirs.pk])
    assert "not items of this project" in str(exc.value.message_dict["items"])
    with pytest.raises(ValidationError):
        item_similar(project=project, item_ids=[bare.pk], mode="nearest")


def test_prioritise_pins_nearest_first_with_the_reason_and_an_event():
    project, other = make_project(name="A"), make_project(name="B")
    manager = UserFactory(username="miner")
    (source,) = bulk_items(project, [[1.0, 0.0]], status="done", tag="src")
    near, far, untouched = bulk_items(
        project, [[1.0, 0.1], [0.2, 1.0], [1.0, 0.0]], tag="pool"
    )
    (foreign,) = bulk_items(other, [[1.0, 0.0]], tag="theirs")
    before = Item.objects.values_list("pk", "priority", "pin", "priority_reason")
    before_foreign = list(before.filter(project=other))
    count = items_similar_prioritise(
        project=project,
        actor=manager,
        similar_to=[source.pk],
        item_ids=[far.pk, near.pk],
    )
    assert count == 2
    near.refresh_from_db()
    far.refresh_from_db()
    untouched.refresh_from_db()
    for item in (near, far):
        assert item.pin == "pinned" and item.priority > PIN_PRIORITY
        assert item.priority_reason["similar_to"] == [source.pk]
        assert item.priority_reason["by"] == "miner"
    assert near.priority > far.priority  # nearest first
    assert near.priority_reason["distance"] < far.priority_reason["distance"]
    assert untouched.pin == "" and untouched.priority_reason == {}
    assert list(before.filter(project=other)) == before_foreign
    events = Event.objects.filter(verb="item_similar_prioritised")
    assert sorted(events.values_list("item_id", flat=True)) == sorted([near.pk, far.pk])
    assert all(e.actor == manager for e in events)
    assert priority_explanation(near).startswith(f"similar to item {source.pk} (")
    # Pinned: the loop's next ordering leaves it alone.
    from annotate.services.predictions import item_priorities_set

    assert item_priorities_set(project=project, priorities={near.pk: 0.5}) == 0
    # Another project's item, a done item, an item without embedding: refused,
    # nothing changes.
    (bare,) = bulk_items(project, [None], tag="bare")
    snapshot = list(Item.objects.order_by("pk").values_list("pk", "priority", "pin"))
    for ids, field in (
        ([foreign.pk], "items"),
        ([source.pk], "items"),
        ([], "items"),
        (["x"], "items"),
    ):
        with pytest.raises(ValidationError) as exc:
            items_similar_prioritise(
                project=project, actor=manager, similar_to=[source.pk], item_ids=ids
            )
        assert field in exc.value.message_dict
    with pytest.raises(Conflict):
        items_similar_prioritise(
            project=project, actor=manager, similar_to=[source.pk], item_ids=[bare.pk]
        )
    with pytest.raises(ValidationError) as exc:
        items_similar_prioritise(
            project=project, actor=manager, similar_to=[foreign.pk], item_ids=[near.pk]
        )
    assert "similar_to" in exc.value.message_dict
    assert list(Item.objects.order_by("pk").values_list("pk", "priority", "pin")) == (
        snapshot
    )
    assert Event.objects.filter(verb="item_similar_prioritised").count() == 2


def test_the_pool_is_bounded_and_read_in_chunks(monkeypatch):
    """At most MAX_POOL unlabelled items (the first by id) are searched,
    read POOL_CHUNK rows at a time; rows of another size are skipped."""
    from annotate import selectors_mining

    monkeypatch.setattr(selectors_mining, "MAX_POOL", 7)
    monkeypatch.setattr(selectors_mining, "POOL_CHUNK", 3)
    project = make_project()
    (query,) = bulk_items(project, [[1.0, 0.0]], status="done", tag="q")
    pool = bulk_items(project, [[1.0, 0.01 * n] for n in range(12)], tag="pool")
    Item.objects.filter(pk=pool[2].pk).update(embedding=[1.0, 0.0, 0.0])
    index = selectors_mining.pool_index(project=project, dim=2)
    assert len(index) == 6  # the first 7 by id, less the one of another size
    found = item_similar(project=project, item_ids=[query.pk], k=50)
    assert [r.item.pk for r in found] == [pool[n].pk for n in (0, 1, 3, 4, 5, 6)]


def test_odd_stored_embeddings_are_skipped_or_refused_never_a_500():
    project = make_project()
    (query,) = bulk_items(project, [[1.0, 0.0]], status="done", tag="q")
    good = bulk_items(project, [[1.0, 0.5], [2, 1]], tag="good")
    odd = bulk_items(project, [[1.0, 0.0]] * 5, tag="odd")
    for item, value in zip(
        odd,
        [[1.0, None], [[1.0], [0.0]], ["1", "2"], [{}, 1.0], [1.0, 2, 3]],
        strict=True,
    ):
        Item.objects.filter(pk=item.pk).update(embedding=value)
    found = item_similar(project=project, item_ids=[query.pk], k=50)
    assert [r.item.pk for r in found] == [good[0].pk, good[1].pk]
    assert found[0].distance == pytest.approx(found[1].distance)  # same direction
    with pytest.raises(Conflict, match="not a list of finite numbers"):
        item_similar(project=project, item_ids=[odd[3].pk])
    with pytest.raises(Conflict):
        item_similar(project=project, item_ids=[odd[0].pk])
