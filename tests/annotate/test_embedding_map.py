"""The embedding map (issue 14): a server-rendered SVG of the items'
embeddings projected by PCA, labelled and unlabelled, coloured by split or
OOD band, with axes and a legend, every point a link to its item; bounded."""

import re

import numpy as np
import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Item, ItemStatus
from annotate.selectors_map import embedding_map
from tests.annotate.test_mining import bulk_items


def _world(project):
    """Two clusters: 12 unlabelled items along one direction, 8 ground-truth
    (train) along another; OOD scores on the unlabelled ones."""
    rng = np.random.default_rng(4)
    pool = bulk_items(
        project,
        [np.array([1.0, 0, 0, 0]) + rng.normal(0, 0.05, 4) for _ in range(12)],
        tag="u",
    )
    done = bulk_items(
        project,
        [np.array([0, 1.0, 0, 0]) + rng.normal(0, 0.05, 4) for _ in range(8)],
        status=ItemStatus.DONE,
        tag="d",
    )
    bulk_items(project, [None], tag="none")  # no embedding: not drawn
    for n, item in enumerate(pool):
        Item.objects.filter(pk=item.pk).update(score_components={"ood": n / 11})
    return pool, done


def test_the_map_draws_every_item_with_axes_legend_and_links(client, project_roles):
    project, users, _ = project_roles
    pool, done = _world(project)
    client.force_login(users[Role.ANNOTATION_MANAGER])
    url = reverse("annotate:project-map", args=[project.pk])
    r = client.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-testid="embedding-map"' in body
    assert body.count('data-testid="map-point"') == 20
    assert 'data-testid="map-axes"' in body and "PC1 (" in body and "PC2 (" in body
    legend = re.findall(r'data-testid="map-legend-entry">.*?</svg> ([^<]+)</li>', body)
    assert legend == ["train (8)", "unlabelled (12)"]
    for item in (pool[0], done[0]):
        href = reverse("annotate:project-item", args=[project.pk, item.pk])
        assert f'<a href="{href}"><circle' in body
    # The two clusters lie apart on the first axis.
    data = embedding_map(project=project)
    xs = {p.cls: [q.x for q in data.points if q.cls == p.cls] for p in data.points}
    assert max(xs["train"]) < min(xs["unlabelled"]) or max(xs["unlabelled"]) < min(
        xs["train"]
    )
    # By OOD band: the project's threshold names the band.
    body = client.get(url + "?colour=ood").content.decode()
    legend = re.findall(r'data-testid="map-legend-entry">.*?</svg> ([^<]+)</li>', body)
    assert legend == [
        "OOD above 0.95 (1)",
        "OOD 0.5 to 0.95 (5)",
        "OOD below 0.5 (6)",
        "no OOD score (8)",
    ]
    assert 'data-class="OOD above 0.95"' in body


def test_a_bad_colouring_is_400_with_the_reason(client, project_roles):
    project, users, _ = project_roles
    _world(project)
    client.force_login(users[Role.OWNER])
    r = client.get(reverse("annotate:project-map", args=[project.pk]) + "?colour=x")
    assert r.status_code == 400
    assert "colour must be one of split, ood, label" in r.content.decode()


def test_the_map_is_a_bounded_seeded_sample(project_roles):
    project, _, _ = project_roles
    _world(project)
    a = embedding_map(project=project, max_points=7)
    b = embedding_map(project=project, max_points=7)
    assert len(a.points) == 7 and a.sampled and a.with_embedding == 20
    assert [p.item_id for p in a.points] == [p.item_id for p in b.points]
    assert [(p.x, p.y) for p in a.points] == [(p.x, p.y) for p in b.points]


def test_without_embeddings_the_page_says_so(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    body = client.get(reverse("annotate:project-map", args=[project.pk])).content
    assert b'data-testid="map-empty"' in body


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER])
def test_who_may_not_see_the_dashboard_may_not_see_the_map(client, project_roles, role):
    project, users, _ = project_roles
    client.force_login(users[role])
    r = client.get(reverse("annotate:project-map", args=[project.pk]))
    assert r.status_code == 403


def test_by_label_each_item_takes_its_most_frequent_label(client, project_roles):
    from annotate.models import Annotation

    project, users, _ = project_roles
    pool, done = _world(project)
    box = {"bbox": [1, 1, 5, 5]}
    rows = [(done[0], "circle"), (done[0], "triangle"), (done[0], "triangle")]
    rows += [(d, "rectangle") for d in done[1:3]]
    rows += [(pool[0], "gone")]  # a label the project no longer has
    Annotation.objects.bulk_create(
        Annotation(item=i, kind="box", label=label, geometry=box) for i, label in rows
    )
    data = embedding_map(project=project, colour="label")
    by_item = {p.item_id: p.cls for p in data.points}
    assert by_item[done[0].pk] == "triangle"
    assert by_item[done[1].pk] == "rectangle"
    assert by_item[pool[0].pk] == "gone"
    assert by_item[pool[1].pk] == "no shapes"
    assert dict(data.classes) == {
        "rectangle": 2, "triangle": 1, "gone": 1, "no shapes": 16
    }  # fmt: skip
    assert [c for c, _ in data.classes][-2:] == ["gone", "no shapes"]
    client.force_login(users[Role.OWNER])
    r = client.get(reverse("annotate:project-map", args=[project.pk]) + "?colour=label")
    assert r.status_code == 200 and 'data-class="triangle"' in r.content.decode()
