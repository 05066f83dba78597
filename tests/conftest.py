"""Set-up shared by every test: a deterministic hypothesis profile, the network
guard, and fixtures for the Django tests (a project with one member per role).

Imports of Django code stay inside the fixtures so that `pytest -p no:django
tests/ml` (the framework-free ML tests) does not need Django.
"""

import os
import socket

import pytest
from hypothesis import settings

# No test may pass or fail by chance: every run draws the same examples (seeded
# from each test's own source), keeps no example database between runs, and has
# no deadline (two shared cores make timings noisy). ALWEB_HYPOTHESIS_PROFILE=
# explore draws fresh random examples, for hunting bugs by hand, never in CI.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=100
)
settings.register_profile(
    "explore", derandomize=False, database=None, deadline=None, max_examples=1000
)
settings.load_profile(os.environ.get("ALWEB_HYPOTHESIS_PROFILE", "ci"))


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
