"""Webhook stories run against an app that trusts SNS certificates served on loopback over
http (as `tests/signing.py` serves them), with a small body limit so 413 is cheap to prove.
Its PUBLIC_URL differs from the address it listens on, as behind a proxy: signatures must be
checked against the public URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clientcontact.channels.ses.sns import SNS_HOST
from tests.harness import AppServer

PUBLIC_URL = "https://inbox.example.com"
MAX_REQUEST_BYTES = 256 * 1024


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    data_dir: Path = tmp_path_factory.mktemp("webhooks-data")
    app_server = AppServer.start(
        database_url=database_url, data_dir=data_dir, public_url=PUBLIC_URL,
        sns_certificate_hosts=(SNS_HOST, r"127\.0\.0\.1"),
        sns_certificate_schemes=("https", "http"), max_request_bytes=MAX_REQUEST_BYTES)
    yield app_server
    app_server.stop()
