"""The Redis task broker (Q_CLUSTER["broker_class"] when REDIS_URL is set):
django-q2's own, made to ride out a broker outage (issue 15).

django-q2 1.11.1 as it is:
- a cluster's sentinel pings the broker once as it starts
  (`Sentinel.start`: `self.broker.ping()`), and the Redis broker's `ping`
  raises on a refused connection, so a qcluster started, or restarted by its
  supervisor, while Redis is down exits with "Q Cluster ... failed to start"
  and never serves its queue, even once Redis is back;
- a pusher whose BLPOP fails sleeps 10 s and exits (`pusher.py`), and the
  sentinel starts a new one: a queue goes unserved for up to 10 s after the
  broker is back;
- the sentinel's status save fails every guard cycle (0.5 s) while the
  broker is down and logs each failure.

Here a failed ping is logged and the cluster starts all the same; a failed
BLPOP is logged and tried again after WAIT s by the same pusher; status saves
are dropped quietly while the broker is down. So a cluster, running or
starting during an outage, serves its queue within WAIT + 1 s (BLPOP's own
timeout) of the broker answering again. Enqueueing still raises: a run
requested while the broker is down is failed with the reason
(runs.services.run_enqueue). Connection options are explicit, not redis-py's
defaults (which changed between versions): a read or a connect to a broker
that stopped answering gives up after SOCKET_TIMEOUT s.
"""

import logging
import time

import redis
from django_q.brokers.redis_broker import Redis as DjangoQRedis
from django_q.conf import Conf

logger = logging.getLogger(__name__)

WAIT = 1.0  # seconds between a pusher's tries while the broker is down
SOCKET_TIMEOUT = 10  # > BLPOP's 1 s
LOG_EVERY = 30.0  # seconds between two log lines about the same outage
BROKER_DOWN = (redis.ConnectionError, redis.TimeoutError)


class Redis(DjangoQRedis):
    _last_logged = 0.0

    def _down(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_logged >= LOG_EVERY:
            self._last_logged = now
            logger.warning("task broker unreachable (%s): %s", what, exc)

    def ping(self) -> bool:
        """True when the broker answers; False (logged) when it does not, so
        that a cluster starting during an outage comes up and waits for it."""
        try:
            return bool(self.connection.ping())
        except BROKER_DOWN as exc:
            self._down("the cluster starts and waits for it", exc)
            return False

    def dequeue(self):
        try:
            return super().dequeue()
        except BROKER_DOWN as exc:
            self._down(f"trying again every {WAIT:.0f} s", exc)
            time.sleep(WAIT)
            return None

    def set_stat(self, key: str, value: str, timeout: int):
        try:
            return super().set_stat(key, value, timeout)
        except BROKER_DOWN as exc:
            self._down("cluster status not saved", exc)
            return None

    @staticmethod
    def get_connection(list_key: str = None) -> redis.Redis:
        options = {
            "socket_timeout": SOCKET_TIMEOUT,
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "socket_keepalive": True,
            "health_check_interval": 30,
        }
        if isinstance(Conf.REDIS, dict):  # django-q2's other form of "redis"
            return redis.Redis(**{**options, **Conf.REDIS})
        return redis.from_url(Conf.REDIS, **options)
