"""The API role matrix: every route under /api/v1/ x verb x role, from the URLconf.

A route (or a verb of a route) without an entry in API_ROUTES fails the suite:
deny by default. Entries name the permission; `(perm, code)` when members without
it get `code` instead of 403 (item routes answer 404: no existence leak); ANY for
routes any authenticated user may call (they filter by membership themselves).
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alweb.roles import ROLE_TABLE, Perm, Role
from annotate.models import (
    Item,
    LabelErrorFlag,
    Membership,
    Project,
    Task,
    TaskKind,
)
from models_mgmt.models import ModelStatus, ModelVersion
from runs.models import Job, JobKind, JobStatus
from tests.api.helpers import client_for, png, upload_file
from tests.factories import UserFactory, add_member, make_items

ANY = "any authenticated user"
# Task routes act on the caller's own claim: everyone else gets 404 (the assignee's
# own calls, and role re-checks, are tested in tests/annotate/test_tasks_api.py).
OWN_TASK = "the assignee of the task only"

API_ROUTES: dict[str, dict[str, object]] = {
    "api-project-list": {"GET": ANY, "POST": ANY},
    "api-project-detail": {
        "GET": Perm.VIEW_PROJECT,
        "PATCH": Perm.EDIT_PIPELINE,
        "DELETE": Perm.DELETE_PROJECT,
    },
    "api-member-list": {"GET": Perm.VIEW_MEMBERS, "POST": Perm.MANAGE_MEMBERS},
    "api-member-detail": {"PATCH": Perm.MANAGE_MEMBERS, "DELETE": Perm.MANAGE_MEMBERS},
    "api-invite-create": {"POST": Perm.MANAGE_MEMBERS},
    "api-pipeline": {"GET": Perm.VIEW_PIPELINE, "PATCH": Perm.EDIT_PIPELINE},
    "api-item-list": {"GET": Perm.VIEW_PROJECT, "POST": Perm.UPLOAD_ITEMS},
    "api-item-detail": {"GET": (Perm.VIEW_DASHBOARD, 404)},
    "api-items-tag": {"POST": Perm.ASSIGN_TASKS},
    "api-work": {"GET": Perm.VIEW_DASHBOARD},
    "api-item-image": {"GET": (Perm.VIEW_DASHBOARD, 404)},
    "api-item-similar": {"GET": Perm.VIEW_DASHBOARD},
    "api-items-similar": {"GET": Perm.VIEW_DASHBOARD},
    "api-items-similar-prioritise": {"POST": Perm.ASSIGN_TASKS},
    "api-label-error-list": {"GET": Perm.REVIEW},
    "api-label-error-confirm": {"POST": Perm.REVIEW},
    "api-label-error-fix": {"POST": Perm.REVIEW},
    "api-label-error-similar": {"POST": Perm.REVIEW},
    "api-export": {"GET": Perm.EXPORT},
    "api-export-job": {"GET": Perm.EXPORT},
    "api-export-download": {"GET": Perm.EXPORT},
    "api-import": {"POST": Perm.UPLOAD_ITEMS},
    "api-task-next": {"POST": Perm.LABEL},
    # Read-only look-ahead for preloading; kind=label here, kind=review below.
    "api-task-peek": {"GET": Perm.LABEL},
    "api-task-peek-image": {"GET": Perm.LABEL},
    "api-task-draft": {"PUT": OWN_TASK},
    "api-task-submit": {"POST": OWN_TASK},
    "api-task-approve": {"POST": OWN_TASK},
    "api-task-reject": {"POST": OWN_TASK},
    # The assignee's own release is tested in tests/annotate/test_tasks_api.py;
    # here the task is another member's: ASSIGN_TASKS holders release it.
    "api-task-release": {"POST": (Perm.ASSIGN_TASKS, 404)},
    "api-task-list": {"GET": Perm.ASSIGN_TASKS},
    "api-project-models": {"GET": Perm.VIEW_DASHBOARD, "POST": Perm.TRAIN},
    "api-project-train": {"POST": Perm.TRAIN},
    "api-project-segmenter": {
        "GET": Perm.VIEW_DASHBOARD,
        "POST": Perm.TRAIN,
        "DELETE": Perm.TRAIN,
    },
    # Label or review perm on a visible item; without weights it answers 409
    # (tests/models_mgmt/test_segmenter_api.py: annotators holding a task).
    "api-item-segment": {"POST": (Perm.VIEW_DASHBOARD, 404)},
    "api-project-backtests": {"POST": Perm.BACKTEST},
    "api-model-detail": {"GET": Perm.VIEW_DASHBOARD},
    "api-model-errors": {"GET": Perm.VIEW_DASHBOARD},
    "api-model-promote": {"POST": Perm.PROMOTE},
    "api-project-evaluations": {"GET": Perm.VIEW_DASHBOARD},
    "api-project-comparisons": {"GET": Perm.VIEW_DASHBOARD},
    # The context's run is an export: cancel and retry need the perm of its kind
    # (tests/runs/test_runs_api.py covers training runs: Perm.TRAIN).
    "api-project-runs": {"GET": Perm.VIEW_DASHBOARD},
    "api-run-detail": {"GET": Perm.VIEW_DASHBOARD},
    "api-run-cancel": {"POST": Perm.EXPORT},
    "api-run-retry": {"POST": Perm.EXPORT},
}


@dataclass
class Ctx:
    """One project with a member per role, an item, a spare member, a done export."""

    project: Project
    users: dict
    outsider: object
    item: Item
    target: object  # a member whose role the member routes change
    newcomer: object  # a non-member the member routes add
    job: Job
    extra: dict = field(default_factory=dict)


def build_ctx(project: Project, users: dict, outsider) -> Ctx:
    (item,) = make_items(project, 1, start_seed=project.pk * 100)
    # An embedding, so that the similar-item routes answer 200 to those allowed.
    Item.objects.filter(pk=item.pk).update(embedding=[1.0, 0.0])
    target = add_member(project, Role.ANNOTATOR, UserFactory())
    name = default_storage.save(f"exports/{project.pk}/t.json", ContentFile(b"{}"))
    job = Job.objects.create(
        project=project,
        kind=JobKind.EXPORT,
        status=JobStatus.SUCCEEDED,
        params={"format": "coco"},
        result={"file": name, "format": "coco", "filename": "x.json"},
    )
    model = ModelVersion.objects.create(
        project=project,
        number=1,
        name="base-1",
        is_base=True,
        status=ModelStatus.DONE,
        architecture="yolov8n.yaml",
    )
    (task_item,) = make_items(project, 1, start_seed=project.pk * 100 + 1)
    task = Task.objects.create(
        item=task_item,
        project=project,
        kind=TaskKind.LABEL,
        assignee=target,
        lease_expires_at=timezone.now() + timedelta(minutes=10),
    )
    Item.objects.filter(pk=task_item.pk).update(status="labeling")
    flag = LabelErrorFlag.objects.create(
        project=project,
        item=item,
        model_version_id=model.pk,
        model_name=model.name,
        kind="missing_label",
        score=0.9,
    )
    return Ctx(
        project,
        users,
        outsider,
        item,
        target,
        UserFactory(),
        job,
        {"model": model, "task": task, "flag": flag},
    )


# URL kwarg -> value from the context. Other API modules add their kwargs here.
KWARGS = {
    "project_id": lambda c: c.project.pk,
    "item_id": lambda c: c.item.pk,
    "user_id": lambda c: c.target.pk,
    "job_id": lambda c: c.job.pk,
    "run_id": lambda c: c.job.pk,
    "model_id": lambda c: c.extra["model"].pk,
    "task_id": lambda c: c.extra["task"].pk,
    "flag_id": lambda c: c.extra["flag"].pk,
}
QUERY = {
    "api-items-similar": lambda c: f"?items={c.item.pk}",
    "api-export": "?format=coco",
    "api-task-peek": "?kind=label",
    "api-task-peek-image": "?kind=label",
}


def body_for(name: str, verb: str, c: Ctx) -> tuple[object, str]:
    """A valid request body for (route, verb): (data, format)."""
    bodies = {
        ("api-project-list", "POST"): (
            {"name": "New", "labels": ["a"], "kinds": ["box"]},
            "json",
        ),
        ("api-project-detail", "PATCH"): ({"description": "changed"}, "json"),
        ("api-member-list", "POST"): (
            {"username": c.newcomer.username, "role": "annotator"},
            "json",
        ),
        ("api-member-detail", "PATCH"): ({"role": "reviewer"}, "json"),
        ("api-invite-create", "POST"): (
            {"username": "invitee", "role": "annotator"},
            "json",
        ),
        ("api-pipeline", "PATCH"): ({"split": {"seed": 3}}, "json"),
        ("api-item-list", "POST"): (
            {"files": [upload_file("new.png", png(9999))]},
            "multipart",
        ),
        ("api-task-next", "POST"): ({"kind": "label"}, "json"),
        ("api-items-tag", "POST"): ({"items": [c.item.pk], "tag": "hard"}, "json"),
        ("api-items-similar-prioritise", "POST"): (
            {"similar_to": [c.item.pk], "items": [c.item.pk]},
            "json",
        ),
        ("api-task-draft", "PUT"): ({"annotations": []}, "json"),
        ("api-task-submit", "POST"): ({"annotations": []}, "json"),
        ("api-task-reject", "POST"): ({"comment": "no"}, "json"),
        ("api-project-models", "POST"): ({"architecture": "yolov8n.yaml"}, "json"),
        ("api-project-segmenter", "POST"): (
            {"file": upload_file("mobile_sam.pt", b"\x80\x02}q\x00.")},
            "multipart",
        ),
        ("api-item-segment", "POST"): ({"x": 1, "y": 1}, "json"),
        ("api-import", "POST"): (
            {
                "as": "ground_truth",
                "coco": {"images": [], "annotations": [], "categories": []},
            },
            "json",
        ),
    }
    return bodies.get((name, verb), ({}, "json"))


def api_routes(patterns=None, prefix="", inside=False):
    """(name, route, view class) of every named route under /api/v1/."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from api_routes(
                entry.url_patterns, route, inside or route.startswith("api/v1/")
            )
        elif isinstance(entry, URLPattern) and (inside or route.startswith("api/v1/")):
            yield entry.name, route, getattr(entry.callback, "view_class", None)


def verbs_of(view_class) -> set[str]:
    if view_class is None:
        return {"?"}
    return {
        m.upper()
        for m in view_class.http_method_names
        if m not in ("options", "head", "trace") and hasattr(view_class, m)
    }


def test_every_api_route_and_verb_has_a_matrix_entry():
    missing = []
    for name, route, view_class in api_routes():
        if not name:
            missing.append(f"{route} (unnamed)")
            continue
        for verb in verbs_of(view_class):
            if verb not in API_ROUTES.get(name, {}):
                missing.append(f"{verb} {name} ({route})")
    assert not missing, f"API routes without a role-matrix entry: {missing}"


def test_matrix_has_no_stale_entries():
    names = {name for name, _, _ in api_routes()}
    assert set(API_ROUTES) <= names


def _url(name: str, c: Ctx) -> str:
    route = next(r for n, r, _ in api_routes() if n == name)
    kwargs = {
        k: KWARGS[k](c) for k in KWARGS if f"<int:{k}>" in route or f"<{k}>" in route
    }
    query = QUERY.get(name, "")
    return reverse(name, kwargs=kwargs) + (query(c) if callable(query) else query)


def _call(client, verb: str, url: str, body):
    data, fmt = body
    method = getattr(client, verb.lower())
    if verb in ("GET", "DELETE"):
        return method(url)
    return method(url, data, format=fmt)


CASES = [
    (name, verb, who)
    for name, verbs in sorted(API_ROUTES.items())
    for verb in sorted(verbs)
    for who in [*(r.value for r in Role), "outsider", "anonymous"]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "verb", "who"), CASES)
def test_api_answers_by_role(project_roles, name, verb, who):
    project, users, outsider = project_roles
    c = build_ctx(project, users, outsider)
    if (name, verb) not in {(n, v) for n, vs in API_ROUTES.items() for v in vs}:
        pytest.skip("route not in this build")
    entry = API_ROUTES[name][verb]
    perm, deny = entry if isinstance(entry, tuple) else (entry, 403)
    user = (
        None
        if who == "anonymous"
        else outsider
        if who == "outsider"
        else users[Role(who)]
    )
    url = _url(name, c)
    response = _call(client_for(user), verb, url, body_for(name, verb, c))
    code = response.status_code
    assert code < 500, (name, verb, who, code)
    if user is None:
        assert code == 401, (name, verb, who, code)
    elif perm == OWN_TASK:
        assert code == 404, (name, verb, who, code)
    elif perm == ANY:
        assert 200 <= code < 300, (name, verb, who, code, getattr(response, "data", ""))
    elif who == "outsider":
        assert code == 404, (name, verb, who, code)
    elif Role(who) in ROLE_TABLE[perm]:
        assert code not in (401, 403, 404, 405), (
            name,
            verb,
            who,
            code,
            getattr(response, "data", ""),
        )
    else:
        assert code == deny, (name, verb, who, code)


@pytest.mark.django_db
def test_id_walk_into_another_project_answers_404_and_changes_nothing(
    project_roles, other_project
):
    project, users, outsider = project_roles
    mine = build_ctx(project, users, outsider)
    other_owner = Membership.objects.get(project=other_project, role="owner").user
    theirs = build_ctx(other_project, {Role.OWNER: other_owner}, outsider)

    def snapshot():
        p = Project.objects.get(pk=other_project.pk)
        return (
            p.name,
            p.description,
            list(p.labels),
            sorted(Membership.objects.filter(project=p).values_list("user_id", "role")),
            sorted(Item.objects.filter(project=p).values_list("pk", "status")),
            p.pipeline.split_seed,
        )

    before = snapshot()
    client = client_for(users[Role.OWNER])
    walked = 0
    for name, route, _ in api_routes():
        if "<int:" not in route or name not in API_ROUTES:
            continue
        for verb in API_ROUTES[name]:
            url = _url(name, theirs)
            response = _call(client, verb, url, body_for(name, verb, mine))
            assert response.status_code == 404, (name, verb, response.status_code)
            walked += 1
    assert walked >= 10
    assert snapshot() == before


PEEK_BY_KIND = {"label": Perm.LABEL, "review": Perm.REVIEW}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(PEEK_BY_KIND))
@pytest.mark.parametrize("name", ["api-task-peek", "api-task-peek-image"])
def test_peek_answers_by_role_for_each_kind(project_roles, name, kind):
    """The peek's permission follows its kind: LABEL or REVIEW; non-members 404."""
    project, users, outsider = project_roles
    c = build_ctx(project, users, outsider)
    if kind == "review":
        Item.objects.filter(pk=c.item.pk).update(status="review")
    url = _url(name, c).split("?")[0] + f"?kind={kind}"
    perm = PEEK_BY_KIND[kind]
    for who, user in [*((r.value, users[r]) for r in Role), ("outsider", outsider)]:
        code = client_for(user).get(url).status_code
        if who == "outsider":
            assert code == 404, (name, kind, who, code)
        elif Role(who) in ROLE_TABLE[perm]:
            assert code == 200, (name, kind, who, code)
        else:
            assert code == 403, (name, kind, who, code)
