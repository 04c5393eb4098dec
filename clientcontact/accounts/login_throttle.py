"""Login throttling: at most `limit` failed password checks per (IP, email) in `window`
seconds, even for the right password once the limit is reached. `accounts.login` is the one
user of it, so every way of proving a password (UI, API, password change) shares one count.

One server counts in its own memory. With REDIS_URL set (several servers behind a balancer),
the count lives in Redis, so an attacker gains nothing by spreading guesses over servers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import deque
from typing import Protocol

import redis

from clientcontact.errors import TooManyAttempts

log = logging.getLogger(__name__)

LIMIT = 5
WINDOW_SECONDS = 900.0
REDIS_PREFIX = "clientcontact:login-failures:"


class LoginThrottle(Protocol):
    def check(self, ip: str, email: str) -> None:
        """Raise TooManyAttempts while the (IP, email) pair is over its limit."""

    def failed(self, ip: str, email: str) -> None: ...

    def succeeded(self, ip: str, email: str) -> None: ...


def _key(ip: str, email: str) -> str:
    """Addresses are hashed: the store never holds who tried to log in from where."""
    return hashlib.sha256(f"{ip}\n{email.strip().lower()}".encode()).hexdigest()


def _refusal(wait_seconds: float) -> TooManyAttempts:
    seconds = max(math.ceil(wait_seconds), 1)
    minutes = math.ceil(seconds / 60)
    return TooManyAttempts(f"too many failed logins; try again in {minutes} minutes",
                           retry_after=seconds)


class MemoryThrottle:
    """This process's count: enough for one server."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, ip: str, email: str) -> None:
        with self._lock:
            recent = self._recent(_key(ip, email))
            if len(recent) >= self.limit:
                raise _refusal(self.window - (time.monotonic() - recent[0]))

    def failed(self, ip: str, email: str) -> None:
        with self._lock:
            self._recent(_key(ip, email)).append(time.monotonic())

    def succeeded(self, ip: str, email: str) -> None:
        with self._lock:
            self._failures.pop(_key(ip, email), None)

    def clear(self) -> None:
        """Forget every count, as a restart of the process does."""
        with self._lock:
            self._failures.clear()

    def _recent(self, key: str) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        cutoff = time.monotonic() - self.window
        while recent and recent[0] < cutoff:
            recent.popleft()
        if len(self._failures) > 100_000:  # an address sweep must not eat the memory
            self._failures = {k: v for k, v in self._failures.items() if v}
        return recent


class RedisThrottle:
    """One count for every server: a sorted set of failure times per (IP, email), expiring
    with the window. When Redis cannot be reached the login goes ahead unthrottled and a
    warning is logged: a cache outage must not lock every agent out."""

    def __init__(self, url: str, *, limit: int = LIMIT, window: float = WINDOW_SECONDS,
                 prefix: str = REDIS_PREFIX) -> None:
        self.limit = limit
        self.window = window
        self._prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def check(self, ip: str, email: str) -> None:
        key, now = self._prefix + _key(ip, email), time.time()
        try:
            pipe = self._client.pipeline()
            pipe.zremrangebyscore(key, 0, now - self.window)
            pipe.zrange(key, 0, 0, withscores=True)
            pipe.zcard(key)
            _, oldest, count = pipe.execute()
        except redis.RedisError:
            log.warning("login throttle: Redis unreachable, this attempt is not counted",
                        exc_info=True)
            return
        if count >= self.limit:
            raise _refusal(self.window - (now - oldest[0][1]))

    def failed(self, ip: str, email: str) -> None:
        key, now = self._prefix + _key(ip, email), time.time()
        try:
            pipe = self._client.pipeline()
            pipe.zadd(key, {uuid.uuid4().hex: now})
            pipe.expire(key, int(self.window) + 1)
            pipe.execute()
        except redis.RedisError:
            log.warning("login throttle: Redis unreachable, a failure went uncounted",
                        exc_info=True)

    def succeeded(self, ip: str, email: str) -> None:
        try:
            self._client.delete(self._prefix + _key(ip, email))
        except redis.RedisError:
            log.warning("login throttle: Redis unreachable", exc_info=True)


def login_throttle(redis_url: str | None, prefix: str = REDIS_PREFIX) -> LoginThrottle:
    """One count per process, or one shared by every server on the same Redis (under this
    installation's `prefix`)."""
    return RedisThrottle(redis_url, prefix=prefix) if redis_url else MemoryThrottle()
