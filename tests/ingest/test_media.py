"""Twilio media: fetched with the inbox's credentials, which never go anywhere but Twilio, and
never inside a transaction; a photo that cannot be fetched yet never holds up its text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.ingest import media_retry
from clientcontact.ingest.media import MediaUnavailable, _on_twilio_api, download
from clientcontact.jobs.models import Job
from tests.fakes.scripted import ScriptedServer
from tests.harness import Api
from tests.ingest.test_batches import send, text_body
from tests.web.helpers import log_in_http
from tests.webhooks.providers import events, incoming, twilio_inbox
from tests.webhooks.test_twilio import JPEG, FakeTwilioMedia

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


def test_a_host_slower_than_the_deadline_is_given_up_on_in_time(host: ScriptedServer) -> None:
    host.queue(200, None, delay=5.0)
    started = time.monotonic()
    with pytest.raises(MediaUnavailable):
        download(f"{host.url}/slow", ("AC1", "token"), limit=10, deadline=started + 0.5)
    assert time.monotonic() - started < 2.0


def test_a_file_over_the_limit_is_not_kept(host: ScriptedServer) -> None:
    host.queue(200, {"big": "x" * 100})
    assert download(f"{host.url}/big", ("AC1", "token"), limit=10) is None


# An MMS as agents see it when Twilio's media host is slow or down ----------------------------

def photo_message(api: Api, media: FakeTwilioMedia, sid: str = "MM0001") -> Message:
    """An MMS with one photo, handled by the worker; the message the agent sees."""
    sms = twilio_inbox(api, api_base_url=media.url)
    send(api, sms.inbound_path, text_body(sid, "+14155550142", "The box is broken",
                                          with_photo=True))
    api.run_worker()
    [received] = [m for m in incoming(api) if m.external_id == sid]
    return received


def shown(api: Api, received: Message) -> dict[str, Any]:
    """The message as the API shows it to an agent."""
    page = api.alice.http.get(f"/api/v1/conversations/{received.conversation_id}/messages")
    [message] = [m for m in page.json()["messages"] if m["id"] == received.id]
    return message


def on_screen(api: Api, received: Message) -> str:
    """The message as the agent's conversation screen shows it."""
    with httpx.Client(base_url=api.server.base_url, timeout=30) as browser:
        log_in_http(browser, api.alice)
        return browser.get(f"/messages/{received.id}").text


def media_retries_come_due(api: Api) -> int:
    """Make the waiting media jobs due, as their backoff passing would; how many there were."""
    with api.session() as session:
        jobs = list(session.scalars(select(Job).where(Job.kind == media_retry.KIND)))
        for job in jobs:
            job.run_after = utcnow() - timedelta(seconds=1)
    return len(jobs)


@pytest.fixture
def twilio_media(loopback_only: None) -> Iterator[FakeTwilioMedia]:
    fake = FakeTwilioMedia().start()
    yield fake
    fake.stop()


def test_an_mms_whose_photo_cannot_be_fetched_shows_its_text_and_the_photo_follows(
        api: Api, twilio_media: FakeTwilioMedia) -> None:
    twilio_media.queue(503)  # Twilio cannot hand the photo over yet
    received = photo_message(api, twilio_media)
    assert received.text == "The box is broken"  # in its conversation at once
    [event] = events(api)
    assert event.handled_at is not None and event.error is None
    assert shown(api, received)["attachments"] == []
    assert [(m["filename"], m["retrying"]) for m in shown(api, received)[
        "missing_attachments"]] == [("media-1.jpg", True)]
    assert "attachment unavailable, retrying" in on_screen(api, received)

    assert media_retries_come_due(api) == 1
    api.run_worker()  # Twilio has the photo now
    message = shown(api, received)
    assert message["missing_attachments"] == []
    [photo] = message["attachments"]
    assert (photo["filename"], photo["content_type"]) == ("media-1.jpg", "image/jpeg")
    assert api.alice.http.get(f"/api/v1/attachments/{photo['id']}").content == JPEG
    assert "media-1.jpg</a>" in on_screen(api, received)
    assert media_retries_come_due(api) == 0


def test_a_photo_that_never_comes_stays_listed_missing_with_its_reason(
        api: Api, twilio_media: FakeTwilioMedia) -> None:
    for _ in range(media_retry.MAX_ATTEMPTS + 1):
        twilio_media.queue(503)
    received = photo_message(api, twilio_media)
    while media_retries_come_due(api):
        api.run_worker()
    assert len(twilio_media.requests) == 1 + media_retry.MAX_ATTEMPTS  # bounded
    [missing] = shown(api, received)["missing_attachments"]
    assert missing["retrying"] is False and "503" in missing["reason"]
    assert (f"attachment unavailable: gave up after {1 + media_retry.MAX_ATTEMPTS} tries: "
            "the media host answered 503") in on_screen(api, received)
    assert shown(api, received)["text"] == "The box is broken"
