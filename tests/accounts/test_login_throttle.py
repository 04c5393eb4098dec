"""Login throttling, in one server's memory and shared through Redis by several servers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from clientcontact.accounts.login_throttle import LoginThrottle, MemoryThrottle, RedisThrottle
from clientcontact.errors import TooManyAttempts
from tests.conftest import REDIS_URL

IP = "203.0.113.7"


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"cc-test-{uuid.uuid4().hex[:8]}:"  # parallel runs never share counts
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


Make = Callable[..., LoginThrottle]


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    if request.param == "memory":
        return MemoryThrottle
    prefix = request.getfixturevalue("redis_prefix")
    return lambda **kw: RedisThrottle(REDIS_URL, prefix=prefix, **kw)


def fail(throttle: LoginThrottle, email: str, times: int) -> None:
    for _ in range(times):
        throttle.check(IP, email)
        throttle.failed(IP, email)


def test_the_sixth_try_is_refused_and_says_when_to_come_back(make: Make) -> None:
    throttle = make(limit=5, window=900)
    fail(throttle, "dora@acme.test", 5)
    with pytest.raises(TooManyAttempts, match="try again in 15 minutes"):
        throttle.check(IP, "Dora@ACME.test ")  # the same person however the address is typed
    throttle.check("198.51.100.1", "dora@acme.test")  # another address is another count
    throttle.check(IP, "tom@acme.test")


def test_a_success_before_the_limit_starts_the_count_again(make: Make) -> None:
    throttle = make(limit=5, window=900)
    fail(throttle, "dora@acme.test", 4)
    throttle.succeeded(IP, "dora@acme.test")
    fail(throttle, "dora@acme.test", 4)
    throttle.check(IP, "dora@acme.test")


def test_failures_older_than_the_window_no_longer_count(make: Make) -> None:
    throttle = make(limit=2, window=1)
    fail(throttle, "dora@acme.test", 2)
    with pytest.raises(TooManyAttempts):
        throttle.check(IP, "dora@acme.test")
    time.sleep(1.2)
    throttle.check(IP, "dora@acme.test")


def test_servers_sharing_redis_share_one_count(redis_prefix: str) -> None:
    """Spreading guesses over servers behind a balancer buys an attacker nothing."""
    first, second = (RedisThrottle(REDIS_URL, prefix=redis_prefix) for _ in range(2))
    fail(first, "dora@acme.test", 3)
    fail(second, "dora@acme.test", 2)
    with pytest.raises(TooManyAttempts):
        first.check(IP, "dora@acme.test")
    with pytest.raises(TooManyAttempts):
        second.check(IP, "dora@acme.test")


def test_with_redis_down_logins_go_ahead(caplog: pytest.LogCaptureFixture) -> None:
    """A cache outage must not lock every agent out; it is logged instead."""
    throttle = RedisThrottle("redis://127.0.0.1:1/0")  # nothing listens on port 1
    fail(throttle, "dora@acme.test", 6)
    throttle.succeeded(IP, "dora@acme.test")
    assert "Redis unreachable" in caplog.text
