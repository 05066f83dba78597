"""Set-up shared by every test: a deterministic hypothesis profile, the network
guard, the engine markers (which tests run again on PostgreSQL and Redis), and
fixtures for the Django tests (a project with one member per role).

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


# The engine markers. scripts/test.sh (`make test`) runs the whole suite on
# SQLite, then `-m postgres` with DATABASE_URL naming a throwaway PostgreSQL
# server, then `-m redis` with REDIS_URL too. The database-bound tests below get
# `postgres` here, by path (a module, or a test name prefix), so that the list
# is in one place; a test module may also set the marker itself. SQLITE_ONLY
# tests are about SQLite itself (WAL, busy handling, the sqlite3 module) and
# are skipped on other engines.
POSTGRES_TESTS = (
    "tests/annotate/test_accepted_shapes.py",
    "tests/annotate/test_queue.py",
    "tests/annotate/test_task_assignment.py",
    "tests/annotate/test_task_peek.py",
    "tests/annotate/test_tasks_api.py",
    "tests/annotate/test_labeling.py",
    "tests/annotate/test_task_durability.py",
    "tests/annotate/test_label_pages.py",
    "tests/annotate/test_item_browser.py",
    "tests/annotate/test_work_page.py",
    "tests/annotate/test_consensus.py",
    "tests/annotate/test_checks.py",
    "tests/annotate/test_item_tags.py",
    "tests/annotate/test_predictions.py",
    "tests/annotate/test_mining.py",
    "tests/annotate/test_mining_pages.py",
    "tests/annotate/test_drift_query.py",
    "tests/annotate/test_overview_queries.py",
    "tests/annotate/test_item_list_plans.py",
    "tests/api/test_item_output.py",
    "tests/annotate/test_label_error_pages.py",
    "tests/annotate/test_similar_mistakes.py",
    "tests/annotate/test_embedding_map.py",
    "tests/models_mgmt/test_thresholds.py",
    "tests/models_mgmt/test_label_errors_flow.py",
    "tests/api/test_io.py",
    "tests/api/test_io_coco.py",
    "tests/api/test_io_coco_images.py",
    "tests/api/test_io_datasets.py",
    "tests/api/test_io_label_studio.py",
    "tests/api/test_io_label_studio_zip.py",
    "tests/api/test_io_throughput.py",
    "tests/annotate/test_data_page.py",
    "tests/api/test_import_folder.py",
    "tests/annotate/test_import_stream.py",
    "tests/annotate/test_import_stream_datasets.py",
    "tests/annotate/test_import_stream_ls.py",
    "tests/api/test_projects_api.py",
    "tests/api/test_bad_input_families.py",
    "tests/api/test_bad_input_limits.py",
    "tests/api/test_api_roles_matrix.py",
    "tests/api/test_schemathesis.py",
    "tests/api/test_uploads.py",
    "tests/api/test_upload_page.py",
    "tests/runs/test_lifecycle.py",
    "tests/runs/test_runs_api.py",
    "tests/runs/test_queues.py",
    "tests/runs/test_gpu_queue.py",
    "tests/models_mgmt/test_triggers_and_promotion.py",
    "tests/models_mgmt/test_error_buckets.py",
    "tests/test_roles_matrix.py",
    "tests/test_roles_matrix_posts.py",
    "tests/test_pages.py",
    "tests/test_login_lock.py",
    "tests/test_accounts.py",
    "tests/annotate/test_event_log.py",
    "tests/test_demo.py",
)
SQLITE_ONLY = (
    "tests/runs/test_contention.py",
    "tests/runs/test_migration.py",
    "tests/test_settings.py::test_sqlite_",
    "tests/test_sqlite_backend.py",
)


def _matches(nodeid: str, prefixes) -> bool:
    return nodeid.startswith(tuple(prefixes))


def _on_sqlite() -> bool:
    from django.conf import settings as django_settings

    from alweb.sqlite import SQLITE_ENGINES

    return django_settings.DATABASES["default"]["ENGINE"] in SQLITE_ENGINES


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    on_sqlite = None
    for item in items:
        if _matches(item.nodeid, POSTGRES_TESTS):
            item.add_marker(pytest.mark.postgres)
        if _matches(item.nodeid, SQLITE_ONLY):
            if on_sqlite is None:
                on_sqlite = _on_sqlite()
            if not on_sqlite:
                item.add_marker(pytest.mark.skip(reason="about SQLite itself"))


def pytest_runtest_setup(item):
    """`redis` tests need REDIS_URL; under scripts/test.sh (which sets
    ALWEB_TEST_REQUIRE_ENGINES) a missing server fails the test, never skips it."""
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        engine_missing("REDIS_URL is not set (make test starts a Redis server)")


def engine_missing(reason: str):
    """Skip (a plain local run) or fail (make test) a test whose engine is absent."""
    if os.environ.get("ALWEB_TEST_REQUIRE_ENGINES"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


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
