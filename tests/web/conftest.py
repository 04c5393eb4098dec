"""A browser-like HTTP client for UI tests that need no real browser, and two more servers on
Redis for what a load balancer spreads over servers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from clientcontact.realtime.redis_bus import RedisBus
from tests.harness import Api, AppServer


@pytest.fixture
def ui(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def two_servers(api: Api, redis_url: str) -> Iterator[tuple[AppServer, AppServer]]:
    """Two more servers on the test database, both on Redis, listening before they serve."""
    url = api.server.runtime.engine.url.render_as_string(hide_password=False)
    servers = [AppServer.start(database_url=url, data_dir=api.settings.data_dir,
                               redis_url=redis_url) for _ in range(2)]
    buses = [server.runtime.bus for server in servers]
    assert all(isinstance(bus, RedisBus) and bus.wait_until_listening() for bus in buses)
    yield servers[0], servers[1]
    for server, bus in zip(servers, buses, strict=True):
        server.stop()
        bus.close()  # type: ignore[attr-defined]
