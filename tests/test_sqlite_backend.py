"""alweb.sqlite (alweb/sqlite/base.py): a write transaction that finds SQLite's
write lock taken asks again every millisecond, up to the connection's busy
timeout, instead of in SQLite's growing sleeps (up to 100 ms each)."""

import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from alweb.sqlite import base
from annotate.models import Project
from tests.sqlite_helpers import hold_write_lock

pytestmark = pytest.mark.django_db(transaction=True)


def _busy_timeout() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return cursor.fetchone()[0]


def test_the_default_database_uses_it():
    assert connection.settings_dict["ENGINE"] == "alweb.sqlite"
    assert isinstance(connections["default"], base.DatabaseWrapper)
    assert _busy_timeout() == 20_000  # OPTIONS["timeout"]


def test_a_busy_begin_is_retried_every_millisecond_until_the_lock_frees(
    monkeypatch,
):
    sleeps = []
    real_sleep, here = time.sleep, threading.get_ident()

    def sleep(seconds):
        if threading.get_ident() == here:  # not the holder's
            sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(base.time, "sleep", sleep)
    thread = hold_write_lock(0.2)
    with transaction.atomic():
        Project.objects.update(description="written")
    thread.join()
    assert sleeps and set(sleeps) == {base._RETRY_SECONDS}
    assert _busy_timeout() == 20_000  # restored for every other statement


def test_a_begin_gives_up_after_the_connections_busy_timeout():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 150")
    thread = hold_write_lock(1.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            Project.objects.update(description="never")
        waited = time.monotonic() - t0
    finally:
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 20000")
    assert 0.15 <= waited < 1.4
    assert not connection.in_atomic_block
    with transaction.atomic():  # the connection is fine afterwards
        Project.objects.update(description="later")
