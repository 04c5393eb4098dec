"""A logged-in browser-like HTTP client for UI tests that need no real browser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.harness import Api


@pytest.fixture
def ui(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.server.base_url, timeout=30) as client:
        yield client
