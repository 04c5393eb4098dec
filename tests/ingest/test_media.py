"""Twilio media: fetched with the inbox's credentials, which never go anywhere but Twilio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clientcontact.ingest.media import MediaUnavailable, _on_twilio_api, download
from tests.fakes.scripted import ScriptedServer

MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


@pytest.fixture
def host(loopback_only: None) -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.mark.parametrize(("url", "base", "expected"), [
    (MEDIA, None, MEDIA),
    (MEDIA, "http://127.0.0.1:9/", "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages/MM1"
                                   "/Media/ME1"),
    ("https://api.twilio.com.evil.example/x", None, None),
    ("https://evil.example/2010-04-01/x", None, None),
    ("https://evil.example/2010-04-01/x", "http://127.0.0.1:9", None),
])
def test_credentials_only_ever_go_to_twilios_api(url: str, base: str | None,
                                                 expected: str | None) -> None:
    assert _on_twilio_api(url, base) == expected


def test_a_file_is_fetched_with_basic_auth(host: ScriptedServer) -> None:
    host.queue(200, None, **{"Content-Type": "image/jpeg"})
    assert download(f"{host.url}/f", ("AC1", "token"), limit=10) == b""
    assert host.requests[0].headers["authorization"].startswith("Basic ")


def test_a_deleted_file_keeps_its_link_and_a_busy_host_is_retried(host: ScriptedServer) -> None:
    host.queue(404)
    assert download(f"{host.url}/gone", ("AC1", "token"), limit=10) is None
    host.queue(503)
    with pytest.raises(MediaUnavailable):
        download(f"{host.url}/busy", ("AC1", "token"), limit=10)


def test_a_file_over_the_limit_is_not_kept(host: ScriptedServer) -> None:
    host.queue(200, {"big": "x" * 100})
    assert download(f"{host.url}/big", ("AC1", "token"), limit=10) is None
