"""Families of bad input, generated (RELIABILITY promise 5): never a 5xx.

- every integer beyond int64 in every path id, query integer and request-body
  integer the API has (walked from the OpenAPI schema and from the pipeline's own
  representation, so new inputs are covered without a new case);
- every cron that never fires (impossible day/month combinations), checked
  against a brute-force "does it ever fire" oracle, through the API and the form;
- every body size past each limit (small limits via override_settings).
"""

import calendar
import itertools
import json
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alweb.roles import Role
from annotate.models import Item, Membership
from ml import config as ml_config
from ml import selection
from models_mgmt.models import TrainingSettings
from tests.api.helpers import client_for, png, upload_file

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

MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun"]
MONTH_NAMES += ["jul", "aug", "sep", "oct", "nov", "dec"]


def fires_ever(days: set[int], months: set[int]) -> bool:
    """Brute force: does some day of `days` exist in some month of `months` within
    the next 400 years (a whole Gregorian cycle, so: ever)?"""
    start = timezone.now().year
    return any(
        day <= calendar.monthrange(year, month)[1]
        for year in range(start, start + 400)
        for month in months
        for day in days
    )


def _field(values: set[int], names: list[str] | None, style: int) -> str:
    ordered = sorted(values)
    contiguous = ordered == list(range(ordered[0], ordered[-1] + 1))
    if style == 1 and contiguous and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    if style == 2 and names:
        return ",".join(names[v - 1] for v in ordered)
    return ",".join(str(v) for v in ordered)


# Mostly the days that some months lack and the months that lack them.
days_st = st.sets(st.sampled_from([29, 30, 31]) | st.integers(1, 31), min_size=1)
months_st = st.sets(st.sampled_from([2, 4, 6, 9, 11]) | st.integers(1, 12), min_size=1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    days=days_st.filter(lambda s: len(s) <= 4),
    months=months_st.filter(lambda s: len(s) <= 4),
    styles=st.tuples(st.integers(0, 2), st.integers(0, 2)),
)
def test_the_cron_validator_agrees_with_the_brute_force_oracle(days, months, styles):
    from models_mgmt.validators import cron_problem

    dom, month = _field(days, None, styles[0]), _field(months, MONTH_NAMES, styles[1])
    expr = f"0 0 {dom} {month} *"
    problem = cron_problem(expr)
    if fires_ever(days, months):
        assert problem is None, (expr, problem)
    else:
        assert problem and "never fires" in problem, (expr, problem)


def _schedule_name(project) -> str:
    return f"alweb-train-project-{project.pk}"


NEVER = ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "15 3 30-31 feb *"]
NOT_FIVE = ["0 0 * * * *", "0 0 1 1 * 2030", "@daily", "0 0 * *"]


@pytest.mark.parametrize("cron", NEVER + NOT_FIVE)
def test_cron_that_never_fires_or_not_five_fields_is_400_naming_triggers(
    project_roles, cron
):
    from django_q.models import Schedule

    project, users, _ = project_roles
    url = reverse("api-pipeline", args=[project.pk])
    client = client_for(users[Role.OWNER])
    r = client.patch(url, {"triggers": {"cron": cron}}, format="json")
    assert r.status_code == 400, r.content
    reason = " ".join(r.json()["triggers"])
    assert ("never fires" if cron in NEVER else "exactly 5 fields") in reason
    assert TrainingSettings.objects.get(project=project).trigger_cron == ""
    assert not Schedule.objects.filter(name=_schedule_name(project)).exists()


def test_a_cron_that_fires_rarely_is_accepted(project_roles):
    from django_q.models import Schedule

    project, users, _ = project_roles
    url = reverse("api-pipeline", args=[project.pk])
    r = client_for(users[Role.OWNER]).patch(
        url, {"triggers": {"cron": "0 0 29 2 *"}}, format="json"
    )
    assert r.status_code == 200, r.content
    assert Schedule.objects.get(name=_schedule_name(project)).cron == "0 0 29 2 *"


def _settings_form(pipeline_cron: str) -> dict:
    return {
        "strategy": "entropy",
        "cold_start_strategy": "diversity",
        "strategy_params": "{}",
        "model_config": "{}",
        "comparison_config": "{}",
        "trigger_cron": pipeline_cron,
        "trigger_kpi": "{}",
        "trigger_every_n_approved": "",
        "split_train": "0.8",
        "split_val": "0.1",
        "split_test": "0.1",
        "split_seed": "0",
    }


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 4 *", "0 0 * * * *"])
def test_the_settings_form_refuses_a_cron_that_never_fires(project_roles, cron):
    project, users, _ = project_roles
    client = Client()
    client.force_login(users[Role.OWNER])
    r = client.post(
        reverse("models_mgmt:project-settings", args=[project.pk]), _settings_form(cron)
    )
    assert r.status_code == 400
    assert b"cron: " in r.content and b"Nothing was saved" in r.content
    assert TrainingSettings.objects.get(project=project).trigger_cron == ""


# Members form -------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["abc", "", "1.5", str(2**63), "-1", "0", "1e3"])
def test_the_members_form_refuses_a_bad_user_id_with_400(project_roles, user_id):
    project, users, _ = project_roles
    client = Client()
    client.force_login(users[Role.OWNER])
    before = Membership.objects.filter(project=project).count()
    r = client.post(
        reverse("annotate:project-members", args=[project.pk]),
        {"action": "remove", "user_id": user_id},
    )
    assert r.status_code == 400
    assert b"user_id" in r.content and b"Nothing was changed" in r.content
    assert Membership.objects.filter(project=project).count() == before


def test_the_members_form_still_removes_a_member(project_roles):
    project, users, _ = project_roles
    client = Client()
    client.force_login(users[Role.OWNER])
    r = client.post(
        reverse("annotate:project-members", args=[project.pk]),
        {"action": "remove", "user_id": str(users[Role.ANNOTATOR].pk)},
    )
    assert r.status_code == 302
    assert not Membership.objects.filter(user=users[Role.ANNOTATOR]).exists()


# Body sizes past each limit -------------------------------------------------------

BODY_LIMIT = 2000
BODY_OPERATIONS = [
    (path, method, op["operationId"])
    for path, method, op in _operations()
    if "requestBody" in op
]


def test_the_body_walk_finds_the_operations_that_take_a_body():
    assert len(BODY_OPERATIONS) >= 10


@pytest.mark.parametrize(("path", "method", "operation"), BODY_OPERATIONS)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=BODY_LIMIT)
@HYPOTHESIS
@given(extra=st.integers(1, 4 * BODY_LIMIT), form=st.booleans())
def test_a_body_past_the_memory_limit_is_json_413(
    world, path, method, operation, extra, form
):
    project, owner, ids = world
    size = BODY_LIMIT + extra
    if form:
        content_type = "application/x-www-form-urlencoded"
        body = b"a=" + b"x" * (size - 2)
    else:
        content_type = "application/json"
        body = b'{"a": "' + b"x" * (size - 9) + b'"}'
    assert len(body) == size
    before = Item.objects.count()
    client = client_for(owner)
    r = getattr(client, method)(_url(path, ids), body, content_type=content_type)
    assert r.status_code == 413, (operation, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json")
    assert "detail" in r.json()
    assert Item.objects.count() == before


@pytest.mark.parametrize(
    "page", ["annotate:project-members", "models_mgmt:project-settings"]
)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=BODY_LIMIT)
@HYPOTHESIS
@given(extra=st.integers(1, 4 * BODY_LIMIT))
def test_a_form_past_the_memory_limit_is_a_plain_413_page(project_roles, page, extra):
    project, users, _ = project_roles
    client = Client()
    client.force_login(users[Role.OWNER])
    body = b"username=" + b"x" * (BODY_LIMIT + extra)
    r = client.post(
        reverse(page, args=[project.pk]),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 413
    assert r["Content-Type"].startswith("text/html")
    assert b"Request too large" in r.content and b"Traceback" not in r.content


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
@pytest.mark.parametrize("api", [True, False])
def test_too_many_fields_is_400_json_for_the_api_and_a_page_elsewhere(
    project_roles, api
):
    project, users, _ = project_roles
    body = "&".join(f"f{i}=1" for i in range(11))
    if api:
        client = client_for(users[Role.OWNER])
        url = reverse("api-member-list", args=[project.pk])
    else:
        client = Client()
        client.force_login(users[Role.OWNER])
        url = reverse("annotate:project-members", args=[project.pk])
    r = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    if api:
        assert "non_field_errors" in r.json()
    else:
        assert r["Content-Type"].startswith("text/html")
        assert b"Traceback" not in r.content


UPLOAD_LIMIT = 4000


@override_settings(ALWEB_MAX_UPLOAD_BYTES=UPLOAD_LIMIT)
@HYPOTHESIS
@given(extra=st.integers(1, 3 * UPLOAD_LIMIT))
def test_an_upload_past_its_limit_is_413_and_stores_nothing(project_roles, extra):
    project, users, _ = project_roles
    data = png(1) + b"\0" * (UPLOAD_LIMIT + extra)
    r = client_for(users[Role.OWNER]).post(
        reverse("api-item-list", args=[project.pk]),
        {"files": [upload_file("a.png", data)]},
        format="multipart",
    )
    assert r.status_code == 413, r.content
    assert not Item.objects.filter(project=project).exists()


IMPORT_LIMIT = 3000


@override_settings(ALWEB_MAX_IMPORT_BYTES=IMPORT_LIMIT)
@HYPOTHESIS
@given(extra=st.integers(1, 3 * IMPORT_LIMIT), multipart=st.booleans())
def test_an_import_past_its_limit_is_413(project_roles, extra, multipart):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    url = reverse("api-import", args=[project.pk])
    doc = {"images": [], "annotations": [], "categories": [], "pad": "x" * extra}
    raw = json.dumps(doc).encode() + b" " * IMPORT_LIMIT
    if multipart:
        file = upload_file("coco.json", raw, "application/json")
        r = client.post(url, {"as": "ground_truth", "file": file}, format="multipart")
    else:
        body = {"as": "ground_truth", "coco": doc, "pad": raw.decode()}
        r = client.post(url, body, format="json")
    assert r.status_code == 413, r.content
    assert "detail" in r.json()


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=2)
def test_too_many_files_on_import_is_400_json(project_roles):
    project, users, _ = project_roles
    files = [upload_file(f"c{i}.json", b"{}", "application/json") for i in range(3)]
    r = client_for(users[Role.OWNER]).post(
        reverse("api-import", args=[project.pk]),
        {"as": "ground_truth", "file": files},
        format="multipart",
    )
    assert r.status_code == 400
    assert "files" in r.json()


def test_handler400_answers_json_under_the_api_and_a_page_elsewhere(rf):
    from django.core.exceptions import RequestDataTooBig, TooManyFilesSent

    from alweb.errors import bad_request

    api = bad_request(rf.post("/api/v1/projects/"), RequestDataTooBig("big"))
    assert api.status_code == 413 and "detail" in json.loads(api.content)
    files = bad_request(rf.post("/api/v1/projects/"), TooManyFilesSent("n"))
    assert files.status_code == 400 and "files" in json.loads(files.content)
    page = bad_request(rf.post("/projects/1/members/"), RequestDataTooBig("big"))
    assert page.status_code == 413 and page["Content-Type"].startswith("text/html")
    other = bad_request(rf.get("/api/v1/projects/"), ValueError("x"))
    assert other.status_code == 400 and json.loads(other.content)
