"""Several servers hear each other through Redis: an event published by one process reaches
the subscribers of another, and only those of the same account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from clientcontact.realtime.bus import RealtimeEvent
from clientcontact.realtime.redis_bus import RedisBus
from clientcontact.runtime import build_runtime
from tests.conftest import REDIS_URL
from tests.harness import settings_for_tests


@pytest.fixture
def prefix(redis_url: str) -> str:
    return f"cc-test-{uuid.uuid4().hex[:8]}:"  # parallel runs never hear each other


@pytest.fixture
def two_servers(prefix: str) -> Iterator[tuple[RedisBus, RedisBus]]:
    web, worker = RedisBus(REDIS_URL, prefix=prefix), RedisBus(REDIS_URL, prefix=prefix)
    yield web, worker
    web.close()
    worker.close()


def test_an_event_from_another_process_reaches_this_ones_screens(
        two_servers: tuple[RedisBus, RedisBus]) -> None:
    web, worker = two_servers
    screen = web.subscribe(account_id=7)
    assert web.wait_until_listening()
    worker.publish(RealtimeEvent(7, "message.status", {"message_id": 3, "status": "sent"}))
    event = screen.get(timeout=5)
    assert event == RealtimeEvent(7, "message.status", {"message_id": 3, "status": "sent"})
    screen.close()


def test_other_accounts_hear_nothing(two_servers: tuple[RedisBus, RedisBus]) -> None:
    web, worker = two_servers
    strangers = web.subscribe(account_id=8)
    mine = web.subscribe(account_id=7)
    assert web.wait_until_listening()
    worker.publish(RealtimeEvent(7, "message.created", {"conversation_id": 1}))
    assert mine.get(timeout=5) is not None
    assert strangers.get(timeout=0.3) is None


def test_a_malformed_message_is_ignored(prefix: str,
                                         two_servers: tuple[RedisBus, RedisBus]) -> None:
    web, worker = two_servers
    screen = web.subscribe(account_id=7)
    assert web.wait_until_listening()
    redis.Redis.from_url(REDIS_URL).publish(f"{prefix}7", b"not json")
    worker.publish(RealtimeEvent(7, "conversation.created", {"conversation_id": 2}))
    event = screen.get(timeout=5)
    assert event is not None and event.type == "conversation.created"


def test_redis_url_selects_the_redis_bus(tmp_path: object) -> None:
    runtime = build_runtime(settings_for_tests(redis_url=REDIS_URL,
                                               database_url="sqlite://", data_dir=tmp_path))
    assert isinstance(runtime.bus, RedisBus)
    runtime.bus.close()


def test_publishing_without_redis_loses_the_push_not_the_request() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens there
    bus.publish(RealtimeEvent(7, "message.created", {}))  # logged, not raised
    assert not bus.wait_until_listening(timeout=0.2)
    bus.close()
