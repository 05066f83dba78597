"""Which detections the scoring run shows the annotator as pre-annotations."""

import pytest

from ml.types import Detection
from models_mgmt.services.scoring import _pre_annotations
from tests.factories import make_items, make_project

pytestmark = pytest.mark.django_db


def det(label, conf, bbox):
    return Detection(label=label, confidence=conf, class_scores=(conf,), bbox=bbox)


@pytest.fixture
def item_of_project():
    project = make_project(labels=["circle", "rectangle"], kinds=["box"])
    (item,) = make_items(project, 1, size=(200, 150))
    return project, item


def test_a_duplicate_of_a_more_confident_box_of_its_label_is_not_shown(
    item_of_project,
):
    project, item = item_of_project
    shown = _pre_annotations(
        project,
        item,
        [
            det("circle", 0.5, (12, 10, 40, 40)),  # IoU 0.82 with the 0.9 one
            det("circle", 0.9, (10, 10, 40, 40)),
            det("rectangle", 0.4, (10, 10, 40, 40)),  # another label: shown
            det("circle", 0.3, (100, 60, 40, 40)),  # elsewhere: shown
            det("circle", 0.2, (30, 10, 40, 40)),  # IoU 0.33: shown
            det("circle", 0.05, (150, 100, 20, 20)),  # below the minimum
        ],
    )
    assert [(s["label"], s["confidence"], s["bbox"][:2]) for s in shown] == [
        ("circle", 0.9, [10, 10]),
        ("rectangle", 0.4, [10, 10]),
        ("circle", 0.3, [100, 60]),
        ("circle", 0.2, [30, 10]),
    ]


def test_the_cap_per_item_counts_the_shapes_shown(item_of_project, settings):
    project, item = item_of_project
    settings.ALWEB_PREANNOTATION_MAX_PER_ITEM = 2
    duplicates = [det("circle", 0.9 - i / 100, (10, 10, 40, 40)) for i in range(5)]
    other = det("circle", 0.5, (100, 60, 40, 40))
    shown = _pre_annotations(project, item, [*duplicates, other])
    assert [s["bbox"][:2] for s in shown] == [[10, 10], [100, 60]]
