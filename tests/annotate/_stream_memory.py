"""What the streamed-import tests share (tests/annotate/test_import_stream*.py):
the owner, a project of bare items to import onto, the rows an import left,
an import's outcome (its result or its errors), and the two harnesses: Python's
peak allocation does not grow with the file, and a file imports exactly as its
parsed document."""

import json
import tracemalloc

import pytest
from django.core.exceptions import ValidationError

from annotate.models import Annotation, Item
from tests.factories import UserFactory, bare_item_rows, make_project

LABELS = ["car", "person"]


@pytest.fixture(name="owner")
def owner_fixture():
    """Imported by a test module, it gives that module the fixture `owner`."""
    return UserFactory(username="stream-owner")


def bare_project(owner, n_items: int, name: str = "stream"):
    """A project of LABELS with `n_items` items img_<i>.png (no image files)."""
    project = make_project(owner, name=name, labels=LABELS)
    Item.objects.bulk_create(bare_item_rows(project, n_items))
    return project


def stored(project=None):
    rows = Annotation.objects.all()
    if project is not None:
        rows = rows.filter(item__project=project)
    return sorted(
        rows.values_list("item__original_name", "kind", "label", "geometry", "area"),
        key=repr,
    )


def outcome(call):
    try:
        return call()
    except ValidationError as exc:
        return exc.message_dict


def peak_bytes(call) -> int:
    """Python's peak allocation (tracemalloc) while `call()` runs."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_peak_does_not_grow(
    run, *, small: bytes, large: bytes, first: bytes, total: int
):
    """`run(first)` (first use: imports, caches, statements), then `run(small)`
    and `run(large)` under tracemalloc: `total` annotations stored and the
    large file's peak under 1.5x the small one's."""
    run(first)
    peak_small = peak_bytes(lambda: run(small))
    peak_large = peak_bytes(lambda: run(large))
    assert Annotation.objects.count() == total
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large, len(large))


def assert_imports_as_parsed(owner, data, *, streamed, parsed):
    """`streamed(project, data)` into a project of 3 bare items gives what
    `parsed(twin, json.loads(data))` gives into another ({"file": ["not valid
    JSON"]} where json.loads fails): the same result, the same errors, the
    same rows. `data`: bytes, or text to encode as UTF-8."""
    project = bare_project(owner, 3, "streamed")
    twin = bare_project(owner, 3, "parsed")
    data = data if isinstance(data, bytes) else data.encode()
    got = outcome(lambda: streamed(project, data))
    try:
        document = json.loads(data)
    except ValueError:
        expected = {"file": ["not valid JSON"]}
    else:
        expected = outcome(lambda: parsed(twin, document))
    assert got == expected
    assert stored(project) == stored(twin)
