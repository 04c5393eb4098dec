"""Several servers hear each other through Redis: an event published by one process reaches
the subscribers of another, and only those of the same account and the same installation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from clientcontact.realtime.bus import RealtimeEvent
from clientcontact.realtime.redis_bus import RedisBus
from clientcontact.runtime import build_runtime
from tests.builders import customer_writes
from tests.conftest import ENGINES, REDIS_URL
from tests.harness import PASSWORD, Api, AppServer, make_personas, settings_for_tests
from tests.web.helpers import TOKEN_IN_FORM


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
    bus = RedisBus("redis://127.0.0.1:1/0", prefix="cc-test:")  # nothing listens there
    bus.publish(RealtimeEvent(7, "message.created", {}))  # logged, not raised
    assert not bus.wait_until_listening(timeout=0.2)
    bus.close()


@pytest.fixture(params=ENGINES)
def two_installations(request: pytest.FixtureRequest, redis_url: str,
                      tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    """Two installations, each with its own database, sharing one Redis; each has had its
    first account made, so the two accounts have the same id."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / name / 'clientcontact.db'}" for name in ("a", "b")]
    else:
        urls = [request.getfixturevalue("postgres_databases")() for _ in range(2)]
    servers = [AppServer.start(database_url=url, data_dir=tmp_path / name, redis_url=redis_url)
               for url, name in zip(urls, ("a", "b"), strict=True)]
    yield Api(servers[0], make_personas(servers[0])), Api(servers[1], make_personas(servers[1]))
    for server in servers:
        server.stop()
        server.runtime.bus.close()  # type: ignore[attr-defined]


def test_two_installations_on_one_redis_never_hear_each_other(
        two_installations: tuple[Api, Api]) -> None:
    ours, theirs = two_installations
    assert ours.alice.actor.account_id == theirs.alice.actor.account_id
    our_screen = ours.server.runtime.bus.subscribe(ours.alice.actor.account_id)
    their_screen = theirs.server.runtime.bus.subscribe(theirs.alice.actor.account_id)
    assert all(api.server.runtime.bus.wait_until_listening()  # type: ignore[attr-defined]
               for api in (ours, theirs))
    thread = customer_writes(ours, ours.alice)
    added = ours.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/notes",
                                 json={"text": "for our eyes only"})
    assert added.status_code == 201
    heard = [our_screen.get(timeout=5) for _ in range(2)]  # through Redis, so ours hear it
    assert [event.type for event in heard if event] == ["conversation.created",
                                                        "message.created"]
    assert their_screen.get(timeout=1) is None


def test_the_namespace_is_one_per_database_however_its_url_is_written(tmp_path: Path) -> None:
    def namespace(url: str) -> str:
        return settings_for_tests(database_url=url, data_dir=tmp_path).resolved_redis_namespace

    same = {namespace("postgresql://app:pw1@DB.internal/inbox"),
            namespace("postgresql+psycopg://app:pw2@db.internal:5432/inbox")}
    assert len(same) == 1
    assert namespace("postgresql://app@db.internal/other") not in same
    assert "pw1" not in same.pop()
    assert settings_for_tests(redis_namespace="acme-prod").redis_key("events:") == (
        "acme-prod:events:")



def test_two_installations_on_one_redis_count_login_failures_apart(
        two_installations: tuple[Api, Api]) -> None:
    ours, theirs = two_installations
    with ours.anonymous() as browser:
        answers = [log_in(browser, ours.alice.email, "not the password") for _ in range(6)]
    assert answers == [401] * 5 + [429]  # our installation throttles the guesser …
    with theirs.anonymous() as browser:  # … and theirs, with the same address, never heard
        assert log_in(browser, theirs.alice.email, PASSWORD) == 303


def log_in(browser: httpx.Client, email: str, password: str) -> int:
    token = TOKEN_IN_FORM.search(browser.get("/login").text)
    assert token is not None
    return browser.post("/login", data={"email": email, "password": password,
                                        "csrf_token": token.group(1)}).status_code
