"""Set-up shared by every test: a deterministic hypothesis profile, the network
guard, and fixtures for the Django tests (a project with one member per role).

Imports of Django code stay inside the fixtures so that `pytest -p no:django
tests/ml` (the framework-free ML tests) does not need Django.
"""

import os

import pytest
from hypothesis import settings

from tests import network_guard

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


network_guard.install()  # before any test module imports a library


@pytest.fixture(autouse=True)
def no_network():
    """Every test: fail at teardown if anything tried to reach beyond loopback.

    The guard blocks each attempt where it happens (OSError / gaierror) and
    records it, because library code may swallow the error. Attempts made
    while higher-scoped fixtures were set up for this test count here too.
    """
    network_guard.install()
    yield
    removed = network_guard.removed()
    network_guard.install()
    attempts = network_guard.take()
    if removed:
        pytest.fail(
            f"the network guard was removed during the test: {removed}",
            pytrace=False,
        )
    if attempts:
        pytest.fail(
            "outbound network attempted (blocked):\n  " + "\n  ".join(attempts),
            pytrace=False,
        )


def pytest_sessionfinish(session, exitstatus):
    """Attempts after the last test's teardown (module/session fixtures) fail the
    run too."""
    attempts = network_guard.take()
    if attempts:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("outbound network attempted (blocked):", red=True)
            for attempt in attempts:
                reporter.write_line(f"  {attempt}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
