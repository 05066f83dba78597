"""Fixtures shared by the Django tests: a project with one member per role.

Imports of Django code stay inside the fixtures so that `pytest -p no:django
tests/ml` (the framework-free ML tests) does not need Django.
"""

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test on any connection to a non-loopback address."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if (
            self.family in (socket.AF_INET, socket.AF_INET6)
            and isinstance(host, str)
            and not (host.startswith("127.") or host in ("localhost", "::1"))
        ):
            raise AssertionError(f"outbound connection attempted to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)


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
