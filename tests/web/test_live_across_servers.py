"""Two web servers behind one load balancer: an agent streaming from one sees what an agent
does on the other, through Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from clientcontact.realtime.redis_bus import RedisBus
from tests.builders import customer_writes
from tests.conftest import skip_or_fail
from tests.harness import Api, AppServer
from tests.web.helpers import log_in_http

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two_servers(api: Api) -> Iterator[tuple[AppServer, AppServer]]:
    """Two more servers on the test database, both on Redis."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    url = api.server.runtime.engine.url.render_as_string(hide_password=False)
    servers = [AppServer.start(database_url=url, data_dir=api.settings.data_dir,
                               redis_url=REDIS_URL) for _ in range(2)]
    buses = [server.runtime.bus for server in servers]
    assert all(isinstance(bus, RedisBus) and bus.wait_until_listening() for bus in buses)
    yield servers[0], servers[1]
    for server, bus in zip(servers, buses, strict=True):
        server.stop()
        bus.close()  # type: ignore[attr-defined]


def test_a_note_added_on_one_server_streams_from_the_other(
        api: Api, two_servers: tuple[AppServer, AppServer]) -> None:
    one, other = two_servers
    thread = customer_writes(api, api.alice)
    with httpx.Client(base_url=other.base_url, timeout=10) as ui:
        log_in_http(ui, api.alice)
        with ui.stream("GET", "/events") as stream:
            lines = stream.iter_lines()
            assert [next(lines), next(lines)] == ["retry: 2000", "event: ready"]
            added = httpx.post(
                f"{one.base_url}/api/v1/conversations/{thread.conversation_id}/notes",
                json={"text": "seen on the other server"}, headers=api.alice.http.headers)
            assert added.status_code == 201
            for line in lines:
                if line == "event: message.created":
                    break
            assert f'"conversation_id": {thread.conversation_id}' in next(lines)
