"""Login, logout, the lock after repeated failures, and the foundation pages."""

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Membership, Pipeline, Project
from models_mgmt.models import TrainingSettings


@pytest.mark.django_db
def test_anonymous_users_reach_only_the_login_page(client):
    for url in ["/", "/projects/", "/projects/1/", "/admin/"]:
        response = client.get(url, follow=True)
        assert response.redirect_chain, url
        assert response.request["PATH_INFO"] == "/accounts/login/"
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.django_db
def test_login_and_logout(client, project_roles):
    project, users, _ = project_roles
    response = client.post(
        "/accounts/login/", {"username": "annotator1", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert client.get(reverse("annotate:project-list")).status_code == 200
    client.post("/accounts/logout/")
    assert client.get(reverse("annotate:project-list")).status_code == 302


@pytest.mark.django_db
def test_open_redirect_after_login_is_refused(client, project_roles):
    for target in ["//evil.example", "https://evil.example", "/\\evil.example"]:
        response = client.post(
            f"/accounts/login/?next={target}",
            {"username": "owner1", "password": "pw-for-tests-1", "next": target},
        )
        assert response.status_code == 302
        assert "evil.example" not in response["Location"]
        client.logout()


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_with_the_same_message(
    client, project_roles, settings
):
    settings.LOGIN_MAX_FAILURES = 3
    bad = {"username": "owner1", "password": "wrong"}
    unknown = client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    wrong = client.post("/accounts/login/", bad)
    assert (
        unknown.context["form"].non_field_errors()
        == wrong.context["form"].non_field_errors()
    )
    client.post("/accounts/login/", bad)
    client.post("/accounts/login/", bad)
    locked = client.post(
        "/accounts/login/", {"username": "owner1", "password": "pw-for-tests-1"}
    )
    assert locked.status_code == 200  # refused even with the right password
    assert "Too many failed attempts" in locked.content.decode()


@pytest.mark.django_db
def test_any_user_creates_a_project_and_becomes_owner(client, project_roles):
    _, _, outsider = project_roles
    client.force_login(outsider)
    response = client.post(
        reverse("annotate:project-list"),
        {"name": "Cars", "labels": "car, person , car2", "kinds": ["box"]},
    )
    assert response.status_code == 302
    project = Project.objects.get(name="Cars")
    assert project.labels == ["car", "person", "car2"] and project.kinds == ["box"]
    assert Membership.objects.get(project=project, user=outsider).role == Role.OWNER
    assert Pipeline.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_bad_project_form_says_why(client, project_roles):
    _, _, outsider = project_roles
    client.force_login(outsider)
    response = client.post(
        reverse("annotate:project-list"),
        {"name": "X", "labels": "a, a", "kinds": ["box"]},
    )
    assert response.status_code == 400
    assert "labels must be unique" in response.content.decode()
    assert not Project.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_owner_manages_members_but_cannot_change_own_role(client, project_roles):
    project, users, outsider = project_roles
    url = reverse("annotate:project-members", args=[project.pk])
    client.force_login(users[Role.OWNER])
    assert (
        client.post(url, {"username": "outsider", "role": "reviewer"}).status_code
        == 302
    )
    assert Membership.objects.get(project=project, user=outsider).role == "reviewer"
    response = client.post(url, {"username": "owner1", "role": "annotator"})
    assert response.status_code == 403
    assert (
        Membership.objects.get(project=project, user=users[Role.OWNER]).role == "owner"
    )
    client.force_login(users[Role.DEVELOPER])
    assert (
        client.post(url, {"username": "outsider", "role": "owner"}).status_code == 403
    )
    assert Membership.objects.get(project=project, user=outsider).role == "reviewer"


@pytest.mark.django_db
def test_manager_sees_pipeline_settings_read_only(client, project_roles):
    project, users, _ = project_roles
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    client.force_login(users[Role.ANNOTATION_MANAGER])
    body = client.get(url).content.decode()
    assert 'data-testid="read-only-note"' in body
    response = client.post(url, {"strategy": "random"})
    assert response.status_code == 403
    assert Pipeline.objects.get(project=project).strategy == "hybrid"  # the default


@pytest.mark.django_db
def test_developer_edits_pipeline_and_bad_values_change_nothing(client, project_roles):
    project, users, _ = project_roles
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    client.force_login(users[Role.DEVELOPER])
    form = {
        "strategy": "margin",
        "cold_start_strategy": "random",
        "mc_epochs": "3",
        "cc_metric": "map50",
        "trigger_kpi": "{}",
        "trigger_cron": "0 3 * * *",
        "trigger_every_n_approved": "50",
        "split_train": "0.7",
        "split_val": "0.2",
        "split_test": "0.1",
        "split_seed": "7",
    }
    assert client.post(url, form).status_code == 302
    pipeline = Pipeline.objects.get(project=project)
    assert (pipeline.strategy, pipeline.split_train, pipeline.split_seed) == (
        "margin",
        0.7,
        7,
    )
    training = TrainingSettings.objects.get(project=project)
    assert training.trigger_every_n_approved == 50
    bad = {**form, "split_train": "0.9", "mc_epochs": "-1"}
    response = client.post(url, bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved" in body and "epochs" in body
    pipeline.refresh_from_db()
    assert pipeline.split_train == 0.7
