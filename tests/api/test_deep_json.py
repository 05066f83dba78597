"""Deeply nested JSON is refused quickly, never parsed in time that grows with
the square of its depth (ijson's prefixes: a 100 KiB file of "[" took 10 s of
CPU, a file twice as deep four times as long) and never a 500 (json.loads
raises RecursionError past its limit, which is not a ValueError)."""

import signal

import pytest
from django.urls import reverse

from annotate.models import Annotation, Item
from annotate.services.coco_source import MAX_DEPTH, FileSource, json_array, rewound
from tests.api.helpers import client_for, upload_file

DEPTH = 200_000  # ~(200k / 80k)^2 x 26 s before: minutes, against 30 s below
DEEP_FILES = {
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "unclosed": b"[" * DEPTH,
    "under a key": b'{"images": ' + b"[" * DEPTH,
    "maps and arrays": b'{"images": ' + b'[{"a": ' * (DEPTH // 8),
    "after scalars": b"[" + b"0, [" * (DEPTH // 4),
}


def _within(seconds: int, call):
    """call(), failed if it is not done in `seconds` (a bound two orders of
    magnitude above the linear parse's). SIGALRM, so that the request runs in
    this thread, inside the test's transaction."""

    def expired(signum, frame):
        raise AssertionError(f"still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", list(DEEP_FILES))
@pytest.mark.parametrize("fmt", ["coco", "label_studio"])
def test_a_deeply_nested_file_is_400_quickly_and_nothing_changes(
    project_roles, name, fmt
):
    project, users, _ = project_roles
    client = client_for(users["owner"])
    before = (Item.objects.count(), Annotation.objects.count())
    body = {"as": "ground_truth", "format": fmt}
    body["file"] = upload_file("deep.json", DEEP_FILES[name])
    answer = _within(
        30,
        lambda: client.post(
            reverse("api-import", args=[project.pk]), body, format="multipart"
        ),
    )
    assert answer.status_code == 400, answer.content[:300]
    assert "file" in answer.json()
    assert (Item.objects.count(), Annotation.objects.count()) == before


@pytest.mark.parametrize("name", ["arrays", "unclosed", "under a key"])
def test_a_deeply_nested_json_body_is_400_not_500(project_roles, name):
    project, users, _ = project_roles
    client = client_for(users["owner"])
    answer = _within(
        30,
        lambda: client.post(
            reverse("api-import", args=[project.pk]),
            DEEP_FILES[name],
            content_type="application/json",
        ),
    )
    assert answer.status_code == 400, answer.content[:300]
    assert answer["Content-Type"].startswith("application/json")


def _coco_nested(depth: int) -> bytes:
    """A COCO file whose first image carries a list `depth` levels deep."""
    inner = b"[" * (depth - 3) + b"]" * (depth - 3)
    return b'{"images": [{"x": ' + inner + b'}], "annotations": [], "categories": []}'


def test_files_as_deep_as_max_depth_stream_and_deeper_ones_parse_whole(tmp_path):
    at_limit, past = tmp_path / "at.json", tmp_path / "past.json"
    at_limit.write_bytes(_coco_nested(MAX_DEPTH))
    past.write_bytes(_coco_nested(MAX_DEPTH + 1))
    with at_limit.open("rb") as fh:
        assert FileSource(fh)._whole is None  # streamed
    with past.open("rb") as fh:
        source = FileSource(fh)
        assert source._whole is not None  # parsed whole by json.loads
        assert source.problems == []
    lists = tmp_path / "list.json"
    lists.write_bytes(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    with lists.open("rb") as fh:
        items = json_array(lambda: rewound(fh), not_json="x", not_list="y")
        assert list(items()) == [_nested(MAX_DEPTH - 1)]


def _nested(depth: int) -> list:
    """An empty list `depth` levels deep ([] is 1)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value
