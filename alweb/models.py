"""alweb's own table: the login throttle (attempts per username and per address)."""

from django.db import models


class LoginThrottle(models.Model):
    """Password checks for one key ("user:<name>" or "addr:<ip>") in the current
    window: finished failures, checks in flight, and the lock once failures hit
    the limit. Written only by alweb.services."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    # Attempts reserved but not settled yet: counted against the limit so that
    # parallel requests cannot run more checks than the limit allows.
    in_flight = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    last_reserved_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["window_started_at"], name="login_throttle_window_idx")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failures"
