"""The project's goal (ground-truth items wanted): set, cleared and refused on
the settings page, and by the service."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Project
from annotate.services.projects import MAX_GOAL, project_update

pytestmark = pytest.mark.django_db


def _post(client, project, goal):
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    return client.post(url, {"action": "goal", "goal": goal})


def _goal(project):
    return Project.objects.get(pk=project.pk).goal


def test_goal_is_set_and_cleared_on_the_settings_page(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.DEVELOPER])
    assert _post(client, project, "1,200").status_code == 302
    assert _goal(project) == 1200
    page = client.get(reverse("models_mgmt:project-settings", args=[project.pk]))
    body = page.content.decode()
    assert 'value="1200"' in body and body.count('data-testid="goal-form"') == 1
    assert "<title>Settings · Alpha" in body
    assert _post(client, project, "").status_code == 302
    assert _goal(project) is None


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("abc", "the goal is a whole number of items"),
        ("-5", "the goal is a whole number of items"),
        ("2.5", "the goal is a whole number of items"),
        ("0", "the goal lies between 1 and"),
        (str(MAX_GOAL + 1), "the goal lies between 1 and"),
    ],
)
def test_a_bad_goal_is_400_keeps_what_was_typed_and_the_old_goal(
    client, project_roles, typed, reason
):
    project, users, _ = project_roles
    Project.objects.filter(pk=project.pk).update(goal=40)
    client.force_login(users[Role.OWNER])
    response = _post(client, project, typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in body and f'value="{typed}"' in body
    assert 'data-testid="error-goal"' in body
    assert _goal(project) == 40


def test_a_manager_sees_the_goal_but_may_not_change_it(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.ANNOTATION_MANAGER])
    assert _post(client, project, "10").status_code == 403
    assert _goal(project) is None


def test_service_refuses_what_is_not_a_whole_number(project_roles):
    project, users, _ = project_roles
    for bad in ("10", 2.0, True, -1):
        with pytest.raises(ValidationError) as exc:
            project_update(project=project, actor=users[Role.OWNER], goal=bad)
        assert "goal" in exc.value.message_dict
    project_update(project=project, actor=users[Role.OWNER], goal=7)
    assert _goal(project) == 7
