"""Writes of the wiring app: the login throttle (reserve, then settle, each check)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from alweb.models import LoginThrottle

# An attempt reserved longer ago than this without being settled belongs to a
# process that died mid-check: its reservation no longer counts.
STALE_RESERVATION_SECONDS = 60


@dataclass(frozen=True)
class ThrottleKey:
    """One counter a login attempt is charged to, and its limit. A successful
    login clears the counter's failures only where `reset_on_success` (the
    username's; never the address's, or one good account would reset it)."""

    key: str
    limit: int
    reset_on_success: bool


def login_throttle_keys(*, username: str, address: str | None) -> list[ThrottleKey]:
    """The counters of one attempt: its username (normalised, so that case
    variants share one) and, when known, its client address."""
    keys = [
        ThrottleKey(
            "user:" + username.strip().lower()[:150],
            settings.LOGIN_MAX_FAILURES,
            reset_on_success=True,
        )
    ]
    if address:
        keys.append(
            ThrottleKey(
                "addr:" + address[:64],
                settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
                reset_on_success=False,
            )
        )
    return keys


class _Refused(Exception):
    pass


def login_attempt_reserve(*, keys: list[ThrottleKey]) -> bool:
    """Reserve one password check on every key, or on none; False when any key
    is locked or already has `limit` failures and checks in flight.

    Each key is one conditional UPDATE (`failures + in_flight < limit`), so no
    number of parallel requests gets more than `limit` checks. A lock or a
    window older than LOGIN_LOCK_SECONDS is cleared first. The caller must settle
    a True reservation with login_attempt_settle().
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            for key in keys:
                if not _reserve_one(key, now):
                    raise _Refused
    except _Refused:
        return False
    return True


def _reserve_one(key: ThrottleKey, now) -> bool:
    window = timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    rows = LoginThrottle.objects.filter(key=key.key)
    rows.filter(
        Q(locked_until__lte=now)
        | Q(locked_until__isnull=True, window_started_at__lte=now - window)
    ).update(failures=0, locked_until=None, window_started_at=now)
    rows.filter(
        in_flight__gt=0,
        last_reserved_at__lte=now - timedelta(seconds=STALE_RESERVATION_SECONDS),
    ).update(in_flight=0)
    reserve = {"in_flight": F("in_flight") + 1, "last_reserved_at": now}
    allowed = rows.filter(locked_until__isnull=True).alias(
        used=F("failures") + F("in_flight")
    )
    if allowed.filter(used__lt=key.limit).update(**reserve):
        return True
    if rows.exists() or key.limit < 1:
        return False
    try:
        with transaction.atomic():
            LoginThrottle.objects.create(
                key=key.key, in_flight=1, window_started_at=now, last_reserved_at=now
            )
        return True
    except IntegrityError:  # a parallel request created the row first
        return bool(allowed.filter(used__lt=key.limit).update(**reserve))


@transaction.atomic
def login_attempt_settle(*, keys: list[ThrottleKey], outcome: str) -> None:
    """Settle a reservation made by login_attempt_reserve().

    outcome "failed": the check failed; it counts, and the key whose failures
    reach its limit is locked for exactly LOGIN_LOCK_SECONDS from now.
    "succeeded": the reservation is given back and `reset_on_success` keys forget
    their failures. "aborted" (an error, not a wrong password): given back only.
    """
    if outcome not in ("failed", "succeeded", "aborted"):
        raise ValueError("outcome must be failed, succeeded or aborted")
    now = timezone.now()
    lock_end = now + timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    for key in keys:
        rows = LoginThrottle.objects.filter(key=key.key)
        release = Greatest(F("in_flight") - 1, Value(0))
        if outcome == "failed":
            rows.update(
                in_flight=release,
                failures=F("failures") + 1,
                locked_until=Case(
                    When(
                        locked_until__isnull=True,
                        failures__gte=key.limit - 1,
                        then=Value(lock_end),
                    ),
                    default=F("locked_until"),
                ),
            )
        elif outcome == "succeeded" and key.reset_on_success:
            rows.update(in_flight=release, failures=0)
        else:
            rows.update(in_flight=release)
    if outcome == "failed":
        _prune(now)


def _prune(now) -> None:
    """Drop counters with nothing left to remember, so the table stays small."""
    window_start = now - timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    LoginThrottle.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        window_started_at__lte=window_start,
        last_reserved_at__lte=now - timedelta(seconds=STALE_RESERVATION_SECONDS),
    ).delete()
