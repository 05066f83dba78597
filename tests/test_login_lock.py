"""The login lock: its exact duration, its bound under parallel attempts, and the
per-address limit across usernames."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "pw-for-tests-1"
LOCKED = "Too many failed attempts"


class CountingMD5Hasher(MD5PasswordHasher):
    """The test hasher, counting real password checks (a verify, or the hash
    Django runs for an unknown user); each takes 50 ms so that parallel attempts
    overlap the way slow production hashes make them."""

    calls = 0
    lock = threading.Lock()
    inside = threading.local()

    def _count(self):
        with CountingMD5Hasher.lock:
            CountingMD5Hasher.calls += 1
        time.sleep(0.05)

    def verify(self, password, encoded):
        self._count()
        self.inside.verifying = True  # MD5's verify() calls encode()
        try:
            return super().verify(password, encoded)
        finally:
            self.inside.verifying = False

    def encode(self, password, salt):
        if not getattr(self.inside, "verifying", False):
            self._count()
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.test_login_lock.CountingMD5Hasher"]
    CountingMD5Hasher.calls = 0
    return CountingMD5Hasher


@pytest.fixture
def clock(monkeypatch):
    """Move time forward without sleeping: timezone.now() and time.time() (and
    the database cache's own reference to now(), which it compares expiry with)
    all follow `clock.advance(seconds)`."""
    from django.core.cache.backends import db as db_cache

    real_now, real_time = timezone.now, time.time

    class Clock:
        offset = 0.0

        def advance(self, seconds):
            self.offset += seconds

    c = Clock()
    monkeypatch.setattr(
        timezone, "now", lambda: real_now() + timedelta(seconds=c.offset)
    )
    monkeypatch.setattr(time, "time", lambda: real_time() + c.offset)
    monkeypatch.setattr(db_cache, "tz_now", timezone.now)
    return c


def login(client, username, password=PASSWORD, **extra):
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, **extra
    )
    return response.status_code == 302, response.content.decode()


@pytest.mark.django_db
def test_lock_lasts_exactly_the_configured_seconds(client, settings, clock):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCK_SECONDS = 900
    UserFactory(username="alice")
    for _ in range(3):
        ok, body = login(client, "alice", "wrong")
        assert not ok and LOCKED not in body
    ok, body = login(client, "alice")
    assert not ok and LOCKED in body  # the right password is refused too
    clock.advance(301)  # past the database cache's default timeout (300 s)
    ok, body = login(client, "alice")
    assert not ok and LOCKED in body
    clock.advance(899 - 301)
    ok, body = login(client, "alice")
    assert not ok and LOCKED in body, "still locked 1 s before the end"
    clock.advance(1)
    ok, _ = login(client, "alice")
    assert ok, "unlocked exactly LOGIN_LOCK_SECONDS after the last failure"


@pytest.mark.django_db
def test_failures_are_forgotten_after_a_success(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="bob")
    for _ in range(2):
        assert not login(client, "bob", "wrong")[0]
    assert login(client, "bob")[0]
    client.logout()
    for _ in range(2):
        assert not login(client, "bob", "wrong")[0]
    assert login(client, "bob")[0], "two failures after a success do not lock"


@pytest.mark.django_db
def test_unknown_user_and_wrong_password_read_the_same_and_both_lock(
    client, settings, counting_hasher
):
    settings.LOGIN_MAX_FAILURES = 2
    UserFactory(username="carol")
    unknown = client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    wrong = client.post("/accounts/login/", {"username": "carol", "password": "x"})
    assert (
        unknown.context["form"].non_field_errors()
        == wrong.context["form"].non_field_errors()
    )
    login(client, "nobody", "x")
    counting_hasher.calls = 0
    ok, body = login(client, "nobody", "x")
    assert not ok and LOCKED in body
    assert counting_hasher.calls == 0, "a locked name costs no password hash"


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_at_most_the_limit_of_real_checks(
    settings, counting_hasher
):
    settings.LOGIN_MAX_FAILURES = 10
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 1000
    UserFactory(username="dave")
    counting_hasher.calls = 0
    start = threading.Barrier(30)
    results = []

    def attempt(i):
        try:
            client = Client(REMOTE_ADDR=f"10.1.0.{i}")
            start.wait()
            results.append(login(client, "dave", f"wrong-{i}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 30 and not any(ok for ok, _ in results)
    assert counting_hasher.calls <= 10, f"{counting_hasher.calls} real checks"
    assert counting_hasher.calls == 10
    assert sum(LOCKED in body for _, body in results) == 20
    ok, body = login(Client(), "dave")
    assert not ok and LOCKED in body


@pytest.mark.django_db
def test_per_address_limit_spans_usernames(settings):
    settings.LOGIN_MAX_FAILURES = 10
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 5
    for name in ["u0", "u1", "u2", "u3", "u4", "victim"]:
        UserFactory(username=name)
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(5):
        ok, body = login(attacker, f"u{i}", "wrong")
        assert not ok and LOCKED not in body
    ok, body = login(attacker, "victim")
    assert not ok and LOCKED in body, "the address is locked for every username"
    # A forged X-Forwarded-For does not move the attacker to a fresh address.
    ok, body = login(attacker, "victim", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert not ok and LOCKED in body
    assert login(Client(REMOTE_ADDR="203.0.113.8"), "victim")[0]


@pytest.mark.django_db
def test_behind_a_proxy_the_last_forwarded_address_counts(settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    settings.LOGIN_ADDRESS_FROM_X_FORWARDED_FOR = True
    for name in ["p0", "p1", "p2"]:
        UserFactory(username=name)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    # The client writes the first entry (forgeable); the proxy appends the last.
    for i in range(2):
        forwarded = f"192.0.2.{i}, 203.0.113.9"
        assert not login(proxy, f"p{i}", "wrong", HTTP_X_FORWARDED_FOR=forwarded)[0]
    ok, body = login(proxy, "p2", HTTP_X_FORWARDED_FOR="192.0.2.50, 203.0.113.9")
    assert not ok and LOCKED in body
    assert login(proxy, "p2", HTTP_X_FORWARDED_FOR="203.0.113.10")[0]
