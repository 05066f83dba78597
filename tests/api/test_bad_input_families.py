"""Families of bad input, generated (RELIABILITY promise 5): never a 5xx.

- every integer beyond int64 in every path id, query integer and request-body
  integer the API has (walked from the OpenAPI schema and from the pipeline's own
  representation, so new inputs are covered without a new case);
- every cron that never fires (impossible day/month combinations), checked
  against a brute-force "does it ever fire" oracle, through the API and the form;
- every body size past each limit (small limits via override_settings).
"""

import itertools
import json
import re

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alweb.roles import Role
from ml import config as ml_config
from ml import selection
from tests.api.helpers import client_for

pytestmark = pytest.mark.django_db

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
HYPOTHESIS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
METHODS = ("get", "post", "put", "patch", "delete")

# Beyond int64 on both sides, and its edges (the edges themselves are valid ints).
beyond_int64 = st.integers(min_value=INT64_MAX + 1) | st.integers(
    max_value=INT64_MIN - 1
)
edges = st.sampled_from([INT64_MAX + 1, INT64_MIN - 1, 2**64, 10**30, -(10**30)])
too_big = edges | beyond_int64
too_big_positive = st.sampled_from([INT64_MAX + 1, 2**64, 10**30]) | st.integers(
    min_value=INT64_MAX + 1
)


def _operations():
    for path, item in SCHEMA["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    if ref:
        return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def _integer_leaves(schema: dict, prefix=()):
    """Paths (keys; "[]" for list items) to every integer in a request schema."""
    schema = _resolve(schema)
    if schema.get("type") == "integer":
        yield prefix
    elif schema.get("type") == "array":
        yield from _integer_leaves(schema.get("items", {}), (*prefix, "[]"))
    for key, sub in schema.get("properties", {}).items():
        yield from _integer_leaves(sub, (*prefix, key))


PATH_IDS = [
    (path, method, name)
    for path, method, op in _operations()
    for name in re.findall(r"{(\w+)}", path)
    if any(
        p["in"] == "path" and p["name"] == name and p["schema"]["type"] == "integer"
        for p in op.get("parameters", [])
    )
]
QUERY_INTS = [
    (path, method, p["name"])
    for path, method, op in _operations()
    for p in op.get("parameters", [])
    if p["in"] == "query" and p["schema"].get("type") == "integer"
]
BODY_INTS = [
    (path, method, op["operationId"], leaf)
    for path, method, op in _operations()
    for media, content in op.get("requestBody", {}).get("content", {}).items()
    if media == "application/json"
    for leaf in _integer_leaves(content["schema"])
]
# A valid body for each operation with an integer input: the generated value is
# put into it. A new operation with an integer input fails until it is listed.
VALID_BODIES = {
    "tasks_next": {"kind": "label"},
    "tasks_draft_save": {"annotations": []},
    "tasks_submit": {"annotations": []},
    "tasks_approve": {"annotations": []},
    "backtests_start": {"strategies": ["hybrid"]},
    "items_tag": {"tag": "hard"},
    "items_similar_prioritise": {"similar_to": [1], "items": [1]},
    "label_error_similar": {},
    "pipeline_update": {
        "split": {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 7},
        "triggers": {
            "every_n_approved": 10,
            "kpi": {"metric": "map50", "target": 0.5, "min_items": 20},
        },
    },
}


def test_the_schema_walk_finds_the_integer_inputs():
    assert len(PATH_IDS) >= 20
    assert {(op, leaf) for _, _, op, leaf in BODY_INTS} >= {
        ("tasks_next", ("exclude", "[]")),
        ("tasks_draft_save", ("version",)),
    }
    assert any(name == "page" for _, _, name in QUERY_INTS)


@pytest.fixture
def world(project_roles):
    """Real ids for every path parameter, and a label task the owner holds."""
    from annotate.services.queue import queue_claim_next
    from tests.factories import make_items

    project, users, outsider = project_roles
    owner = users[Role.OWNER]
    items = make_items(project, 2)
    task = queue_claim_next(project=project, user=owner, kind="label")
    ids = {
        "project_id": project.pk,
        "item_id": items[0].pk,
        "task_id": task.pk,
        "user_id": users[Role.ANNOTATOR].pk,
        "job_id": 1,
        "model_id": 1,
        "flag_id": 1,
    }
    return project, owner, ids


def _url(path: str, ids: dict, **override) -> str:
    values = {**ids, **override}
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)


def _call(client, method: str, url: str, body=None):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, body or {}, format="json")


@pytest.mark.parametrize(("path", "method", "name"), PATH_IDS)
@HYPOTHESIS
@given(value=too_big_positive)
def test_path_ids_beyond_int64_are_404(world, path, method, name, value):
    project, owner, ids = world
    body = {"kind": "label", "annotations": [], "role": "annotator", "comment": "x"}
    r = _call(client_for(owner), method, _url(path, ids, **{name: value}), body)
    assert r.status_code == 404, (path, method, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(("path", "method", "name"), QUERY_INTS)
@HYPOTHESIS
@given(value=too_big)
def test_query_integers_beyond_int64_are_refused(world, path, method, name, value):
    project, owner, ids = world
    r = client_for(owner).get(_url(path, ids), {name: value})
    assert r.status_code in (400, 404), (path, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json")


def _with_leaf(body: dict, leaf: tuple, value) -> dict:
    """`body` with the integer at `leaf` set to `value` (a list gets one item)."""
    out = json.loads(json.dumps(body))
    node = out
    for key, nxt in itertools.pairwise(leaf):
        if nxt == "[]":
            node[key] = [value] if leaf[-1] == "[]" else [{}]
            node = node[key][0]
        elif key != "[]":
            node = node.setdefault(key, {})
    if leaf[-1] != "[]":
        node[leaf[-1]] = value
    return out


@pytest.mark.parametrize(("path", "method", "operation", "leaf"), BODY_INTS)
@HYPOTHESIS
@given(value=too_big)
def test_body_integers_beyond_int64_are_400_naming_the_field(
    world, path, method, operation, leaf, value
):
    project, owner, ids = world
    assert operation in VALID_BODIES, f"add a valid body for {operation}"
    body = _with_leaf(VALID_BODIES[operation], leaf, value)
    r = _call(client_for(owner), method, _url(path, ids), body)
    assert r.status_code == 400, (operation, leaf, r.status_code, r.content[:300])
    assert leaf[0] in r.json()


@pytest.mark.parametrize("value", [INT64_MAX, 1])
def test_body_integers_at_the_int64_edge_are_not_5xx(world, value):
    project, owner, ids = world
    client = client_for(owner)
    for path, method, operation, leaf in BODY_INTS:
        body = _with_leaf(VALID_BODIES[operation], leaf, value)
        r = _call(client, method, _url(path, ids), body)
        assert r.status_code < 500, (operation, leaf, r.status_code)


def _populated_pipeline_bodies() -> list[dict]:
    """Valid PATCH bodies that set every pipeline field, one per strategy: each
    integer in them is a pipeline integer input."""
    triggers = {
        "cron": "0 3 * * *",
        "every_n_approved": 10,
        "kpi": {"metric": "map50", "target": 0.5, "min_items": 20},
    }
    return [
        {
            "strategy": name,
            "strategy_params": selection.validate_strategy_params(name, {}),
            "split": {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 7},
            "model_config": ml_config.validate_model_config({"epochs": 20}),
            "comparison_config": ml_config.validate_comparison_config({}),
            "triggers": triggers,
        }
        for name in selection.STRATEGIES
    ]


def _int_leaves_of(value, prefix=()):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield prefix
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _int_leaves_of(sub, (*prefix, key))


PIPELINE_INTS = sorted(
    {
        (body["strategy"], leaf)
        for body in _populated_pipeline_bodies()
        for leaf in _int_leaves_of(body)
    }
)


def test_the_pipeline_walk_finds_its_integer_inputs():
    leaves = {leaf for _, leaf in PIPELINE_INTS}
    assert {("split", "seed"), ("triggers", "every_n_approved")} <= leaves
    assert ("triggers", "kpi", "min_items") in leaves
    assert ("strategy_params", "batch_size") in leaves
    assert ("model_config", "epochs") in leaves


@pytest.mark.parametrize(("strategy", "leaf"), PIPELINE_INTS)
@HYPOTHESIS
@given(value=too_big)
def test_pipeline_integers_beyond_int64_are_400_and_change_nothing(
    project_roles, strategy, leaf, value
):
    project, users, _ = project_roles
    body = next(b for b in _populated_pipeline_bodies() if b["strategy"] == strategy)
    url = reverse("api-pipeline", args=[project.pk])
    client = client_for(users[Role.OWNER])
    before = client.get(url).json()
    r = client.patch(url, _with_leaf(body, leaf, value), format="json")
    assert r.status_code == 400, (leaf, r.status_code, r.content[:300])
    assert leaf[0] in r.json()
    assert client.get(url).json() == before


# Crons that never fire ---------------------------------------------------------
