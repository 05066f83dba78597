"""Check-then-write services hold on PostgreSQL as they do on SQLite.

SQLite's IMMEDIATE transactions serialize every write, so a service that counts
the owners before demoting one, or reads the highest version number before
adding one, never races another. PostgreSQL (READ COMMITTED) runs both at once:
both pass the check and the invariant breaks (no owner left) or a unique
constraint answers (a 500). Each test holds the first call's transaction open
while the second runs until it ends or waits for a lock, then commits the first:
the same interleaving every run, with no sleeps deciding the outcome.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction

from alweb.roles import Role
from annotate.models import Membership
from annotate.services.projects import member_remove, member_set
from models_mgmt.models import ModelStatus, ModelVersion
from models_mgmt.services.versions import (
    model_version_promote,
    model_version_register_base,
)
from tests.conftest import engine_missing
from tests.factories import UserFactory, add_member, make_project
from tests.runs.qclusters import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        engine_missing("about PostgreSQL's concurrency (SQLite serializes writes)")


def _outcome(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        return exc
    finally:
        connections.close_all()


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def run_while_held(first, second):
    """(outcome of first, outcome of second): `first` runs in a transaction kept
    open until `second`, in another thread, has finished or waits for a lock."""
    holding, release, out = threading.Event(), threading.Event(), {}

    def hold():
        def body():
            with transaction.atomic():
                result = first()
                holding.set()
                assert release.wait(30)
                return result

        out["first"] = _outcome(body)
        holding.set()

    a = threading.Thread(target=hold)
    a.start()
    assert holding.wait(30)
    b = threading.Thread(target=lambda: out.__setitem__("second", _outcome(second)))
    b.start()
    wait_for(lambda: not b.is_alive() or _waiting_for_a_lock(), 30, "the second call")
    release.set()
    a.join(30)
    b.join(30)
    return out["first"], out["second"]


@pytest.fixture
def owners():
    first = UserFactory(username="lock-owner1")
    project = make_project(first, name="Locks")
    second = add_member(project, Role.OWNER, UserFactory(username="lock-owner2"))
    return project, first, second


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_owners_taking_each_other_out_leave_one_owner(owners, change):
    project, one, two = owners

    def take_out(actor, user):
        if change == "demote":
            return lambda: member_set(
                project=project, actor=actor, user=user, role=Role.ANNOTATOR
            )
        return lambda: member_remove(project=project, actor=actor, user=user)

    first, second = run_while_held(take_out(one, two), take_out(two, one))
    assert not isinstance(first, Exception), first
    assert isinstance(second, ValidationError), second
    assert "at least one owner" in str(second)
    owners_left = Membership.objects.filter(project=project, role=Role.OWNER)
    assert list(owners_left.values_list("user__username", flat=True)) == ["lock-owner1"]


def test_two_base_models_registered_at_once_get_the_next_two_numbers(owners):
    project, one, two = owners

    def register(actor):
        return lambda: model_version_register_base(
            project=project, actor=actor, architecture="yolov8n.yaml"
        )

    first, second = run_while_held(register(one), register(two))
    assert isinstance(first, ModelVersion), first
    assert isinstance(second, ModelVersion), second
    numbers = ModelVersion.objects.filter(project=project).values_list(
        "number", flat=True
    )
    assert sorted(numbers) == [1, 2]


def test_two_promotions_at_once_leave_one_best_model_the_last_one(owners):
    project, one, _ = owners
    versions = []
    for number in (1, 2, 3):
        version = ModelVersion(
            project=project, number=number, name=f"v{number}", status=ModelStatus.DONE
        )
        version.weights.save(f"v{number}.pt", ContentFile(b"\x80weights"), save=False)
        version.save()
        versions.append(version)
    ModelVersion.objects.filter(pk=versions[0].pk).update(is_best=True)

    def promote(version):
        return lambda: model_version_promote(version=version, actor=one)

    first, second = run_while_held(promote(versions[1]), promote(versions[2]))
    assert first is None and second is None, (first, second)
    best = ModelVersion.objects.filter(project=project, is_best=True)
    assert list(best.values_list("name", flat=True)) == ["v3"]
