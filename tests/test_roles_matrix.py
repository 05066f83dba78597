"""The role table is the test: every role x permission, and every route x role."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from alweb.roles import ROLE_TABLE, Perm, Role, perms_for, role_allows
from tests.api.test_api_roles_matrix import API_ROUTES
from tests.factories import make_items
from tests.test_roles_matrix_posts import FORM_POSTS

# Every named HTML route: (permission it needs, code for members without it).
# Item routes answer 404 to members who may not see the item (no existence leak).
HTML_ROUTES = {
    "annotate:project-detail": (Perm.VIEW_PROJECT, 403),
    "annotate:project-items": (Perm.VIEW_DASHBOARD, 403),
    "annotate:project-item": (Perm.VIEW_DASHBOARD, 403),
    "annotate:project-items-similar": (Perm.VIEW_DASHBOARD, 403),
    "annotate:project-map": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:project-settings": (Perm.VIEW_PIPELINE, 403),
    "annotate:project-members": (Perm.VIEW_MEMBERS, 403),
    "annotate:project-events": (Perm.VIEW_DASHBOARD, 403),
    "annotate:project-work": (Perm.VIEW_DASHBOARD, 403),
    "annotate:project-upload": (Perm.UPLOAD_ITEMS, 403),
    "annotate:project-data": (Perm.EXPORT, 403),
    "annotate:label": (Perm.LABEL, 403),
    "annotate:review": (Perm.REVIEW, 403),
    "annotate:label-errors": (Perm.REVIEW, 403),
    "annotate:label-error-image": (Perm.REVIEW, 403),
    "annotate:item-image": (Perm.VIEW_DASHBOARD, 404),
    "annotate:item-thumbnail": (Perm.VIEW_DASHBOARD, 404),
    "models_mgmt:models": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:version": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:version-weights": (Perm.EXPORT, 403),
    "models_mgmt:version-errors": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:version-by-id": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:compare": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:pipeline": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:backtests": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:backtest": (Perm.VIEW_DASHBOARD, 403),
    "models_mgmt:backtest-file": (Perm.VIEW_DASHBOARD, 403),
}
# Routes that answer with a redirect to a page of the table: followed.
REDIRECTS = {"models_mgmt:version-by-id"}
# Every HTML form POST (the POST-only routes among them) has its row in FORM_POSTS.
# Routes outside the per-project table, with the reason.
EXEMPT = {
    "home": "redirect to the project list",
    "login": "public",
    "logout": "any session",
    "healthz": "public liveness probe",
    "favicon": "public: a redirect to the static icon",
    "invite-accept": "public: the signed single-use token is the credential "
    "(tests/test_accounts.py)",
    "annotate:project-list": "lists only the caller's projects (tested below)",
    "api-schema": "OpenAPI schema: any authenticated user",
    "api-docs": "API docs page: any authenticated user",
}
# REST routes have their own role x verb matrix in tests/api/test_api_roles_matrix.py.
EXEMPT.update({name: "tests/api/test_api_roles_matrix.py" for name in API_ROUTES})


def _named_routes(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns == "admin":
                continue
            yield from _named_routes(
                entry.url_patterns, f"{namespace}{ns}:" if ns else namespace
            )
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_named_route_has_an_entry_in_the_matrix():
    missing = set(_named_routes()) - set(HTML_ROUTES) - set(FORM_POSTS) - set(EXEMPT)
    assert not missing, f"routes without a role-matrix entry: {sorted(missing)}"


def test_role_table_matches_design_md():
    # DESIGN.md's table, restated row by row.
    expect = {
        Perm.VIEW_DASHBOARD: {"owner", "developer", "annotation_manager"},
        Perm.EDIT_PIPELINE: {"owner", "developer"},
        Perm.MANAGE_MEMBERS: {"owner"},
        Perm.DELETE_PROJECT: {"owner"},
        Perm.UPLOAD_ITEMS: {"owner", "developer", "annotation_manager"},
        Perm.EXPORT: {"owner", "developer", "annotation_manager"},
        Perm.ASSIGN_TASKS: {"owner", "developer", "annotation_manager"},
        Perm.LABEL: {"owner", "developer", "annotation_manager", "annotator"},
        Perm.REVIEW: {"owner", "developer", "annotation_manager", "reviewer"},
        Perm.TRAIN: {"owner", "developer"},
        Perm.PROMOTE: {"owner", "developer"},
        # Not in DESIGN.md's table: issue 10 says managers start backtests.
        Perm.BACKTEST: {"owner", "developer", "annotation_manager"},
    }
    for perm, roles in expect.items():
        assert {r.value for r in ROLE_TABLE[perm]} == roles, perm
    assert set(ROLE_TABLE) == set(Perm), "every permission has a row"


def test_unknown_roles_and_perms_hold_nothing():
    assert not role_allows("admin", Perm.LABEL)
    assert not role_allows(None, Perm.VIEW_PROJECT)
    assert not role_allows(Role.OWNER, "alweb.fly")
    assert perms_for(Role.ANNOTATOR) == {Perm.VIEW_PROJECT, Perm.LABEL}


@pytest.mark.django_db
@pytest.mark.parametrize("perm", list(Perm))
def test_has_perm_answers_from_the_table_for_every_role(project_roles, perm):
    project, users, outsider = project_roles
    for role, user in users.items():
        assert user.has_perm(perm, project) == (role in ROLE_TABLE[perm]), (role, perm)
    assert not outsider.has_perm(perm, project)
    assert not outsider.has_perm(perm)  # no object: no project permission


def _backtest_run(project):
    from models_mgmt.services.backtests import backtest_dir
    from runs.models import Job

    job = Job.objects.create(
        project=project, kind="backtest", status="succeeded", task="x", queue="training"
    )
    folder = backtest_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "curves.csv").write_text("strategy,seed\n")
    return job


def _version(project):
    from django.core.files.base import ContentFile

    from models_mgmt.models import ModelVersion

    version, _ = ModelVersion.objects.get_or_create(
        project=project, number=1, defaults={"name": "v1", "status": "done"}
    )
    if not version.weights:
        version.weights.save("v1.pt", ContentFile(b"\x80weights"))
    return version


def _url(name, project, item):
    if name == "annotate:project-items-similar":
        from annotate.models import Item

        # The query item needs an embedding for the page to answer 200.
        Item.objects.filter(pk=item.pk).update(embedding=[1.0, 0.0])
        url = reverse(name, kwargs={"project_id": project.pk})
        return f"{url}?items={item.pk}"
    if name == "annotate:label-error-image":
        from annotate.models import LabelErrorFlag

        flag = LabelErrorFlag.objects.create(
            project=project, item=item, model_version_id=1, kind="x", score=0.5
        )
        return reverse(name, kwargs={"project_id": project.pk, "flag_id": flag.pk})
    if name == "annotate:project-item":
        return reverse(name, kwargs={"project_id": project.pk, "item_id": item.pk})
    if name.startswith("annotate:item-"):
        return reverse(name, kwargs={"item_id": item.pk})
    if name in ("models_mgmt:backtest", "models_mgmt:backtest-file"):
        kwargs = {"project_id": project.pk, "run_id": _backtest_run(project).pk}
        if name.endswith("-file"):
            kwargs["name"] = "curves.csv"
        return reverse(name, kwargs=kwargs)
    if name in (
        "models_mgmt:version",
        "models_mgmt:version-weights",
        "models_mgmt:version-errors",
    ):
        number = _version(project).number
        return reverse(name, kwargs={"project_id": project.pk, "number": number})
    if name == "models_mgmt:version-by-id":
        model_id = _version(project).pk
        return reverse(name, kwargs={"project_id": project.pk, "model_id": model_id})
    return reverse(name, kwargs={"project_id": project.pk})


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(HTML_ROUTES))
def test_every_route_answers_by_role(client, project_roles, name):
    project, users, outsider = project_roles
    (item,) = make_items(project, 1)
    perm, deny_code = HTML_ROUTES[name]
    url = _url(name, project, item)
    for role, user in users.items():
        client.force_login(user)
        code = client.get(url, follow=name in REDIRECTS).status_code
        expected = 200 if role in ROLE_TABLE[perm] else deny_code
        assert code == expected, (name, role, code)
    client.force_login(outsider)
    assert client.get(url).status_code == 404, (name, "outsider")
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_unknown_project_and_non_member_look_the_same(client, project_roles):
    project, users, outsider = project_roles
    client.force_login(outsider)
    a = client.get(
        reverse("annotate:project-detail", kwargs={"project_id": project.pk})
    )
    b = client.get(reverse("annotate:project-detail", kwargs={"project_id": 999999}))
    assert a.status_code == b.status_code == 404


@pytest.mark.django_db
def test_project_list_shows_only_the_callers_projects(
    client, project_roles, other_project
):
    project, users, outsider = project_roles
    client.force_login(users[Role.ANNOTATOR])
    body = client.get(reverse("annotate:project-list")).content.decode()
    assert "Alpha" in body and "Beta" not in body
    client.force_login(outsider)
    body = client.get(reverse("annotate:project-list")).content.decode()
    assert "Alpha" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_navigation_shows_only_what_the_role_allows(client, project_roles, role):
    project, users, _ = project_roles
    client.force_login(users[role])
    body = client.get(reverse("annotate:project-detail", args=[project.pk])).content
    body = body.decode()
    tabs = {
        "tab-items": Perm.VIEW_DASHBOARD,
        "tab-pipeline": Perm.VIEW_DASHBOARD,
        "tab-settings": Perm.VIEW_PIPELINE,
        "tab-members": Perm.VIEW_MEMBERS,
        "tab-events": Perm.VIEW_DASHBOARD,
        "tab-work": Perm.VIEW_DASHBOARD,
    }
    for testid, perm in tabs.items():
        assert (f'data-testid="{testid}"' in body) == role_allows(role, perm), testid
