"""Families of bad input, generated (RELIABILITY promise 5), continued from
test_bad_input_families.py: every cron that never fires (checked against a
brute-force "does it ever fire" oracle, through the API and the form), bad
member ids on the members form, and every body size past each limit."""

import calendar
import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from alweb.roles import Role
from annotate.models import Item, Membership
from models_mgmt.models import TrainingSettings
from tests.api.helpers import client_for, png, upload_file
from tests.api.test_bad_input_families import HYPOTHESIS, _operations, _url, world  # noqa: F401

pytestmark = pytest.mark.django_db

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
    world,  # noqa: F811 (the imported fixture)
    path,
    method,
    operation,
    extra,
    form,  # noqa: F811 (the fixture)
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
