"""Fixtures shared by the Django tests: a project with one member per role.

Imports of Django code stay inside the fixtures so that `pytest -p no:django
tests/ml` (the framework-free ML tests) does not need Django.
"""

import pytest


@pytest.fixture
def project_roles(db):
    """(project, {role: user}, outsider): one member per role and a non-member."""
    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username="owner1")
    project = make_project(owner, name="Alpha")
    users = {Role.OWNER: owner}
    for role in Role:
        if role != Role.OWNER:
            users[role] = add_member(project, role, UserFactory(username=f"{role}1"))
    outsider = UserFactory(username="outsider")
    return project, users, outsider


@pytest.fixture
def other_project(db):
    """A second project with its own owner (for cross-project access tests)."""
    from tests.factories import UserFactory, make_project

    return make_project(UserFactory(username="other-owner"), name="Beta")
