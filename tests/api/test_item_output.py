"""The items list's ItemSerializer reads its fields directly (#15: DRF's
generic walk was ~5 ms of CPU a page of 50 at 100k items); its output must
stay the generic one's, field for field and in order, for every kind of
item."""

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from annotate.api.outputs import ItemDetailSerializer, ItemSerializer
from annotate.models import Item, ItemStatus
from tests.annotate.test_mining import bulk_items

pytestmark = pytest.mark.django_db

REASONS = [
    {},
    {
        "strategy": "hybrid",
        "rank": 2,
        "in_batch": True,
        "model_version": 4,
        "model_name": "v4",
        "batch": 1,
        "components": {"uncertainty": 0.41},
    },
    {"pin": "pinned"},
    {"strategy": "random", "control": True, "rank": 0, "note": None},
]


@pytest.fixture
def items(project_roles):
    project, _, _ = project_roles
    rows = bulk_items(project, [[1.0]] * 8, tag="out")
    for n, item in enumerate(rows):
        item.priority_reason = REASONS[n % len(REASONS)]
        item.priority = n / 7
        item.uncertainty = None if n % 2 else n / 9
        item.scored_by = None if n % 3 else 40 + n
        item.review_comment = "" if n % 2 else f"comment {n} ü"
        if n % 4 == 3:
            item.status, item.split = ItemStatus.DONE, "val"
        item.created_at = datetime(2026, 11, 1 + n, 12, 30, n, 1234 * n, tzinfo=UTC)
    Item.objects.bulk_update(
        rows,
        [
            "priority_reason",
            "priority",
            "uncertainty",
            "scored_by",
            "review_comment",
            "status",
            "split",
            "created_at",
        ],
    )
    return list(Item.objects.filter(project=project).order_by("pk"))


def test_the_direct_output_is_the_generic_one(items):
    serializer = ItemSerializer()
    for item in items:
        fast = serializer.to_representation(item)
        generic = serializers.Serializer.to_representation(serializer, item)
        assert list(fast.items()) == list(generic.items()), item.pk
        assert type(fast["created_at"]) is str
    assert ItemSerializer(items, many=True).data == [
        serializers.Serializer.to_representation(ItemSerializer(), i) for i in items
    ]


def test_the_detail_serializer_keeps_the_generic_path(items):
    data = ItemDetailSerializer(items[0]).data
    assert {"annotations", "tags"} <= set(data)
