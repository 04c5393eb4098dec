"""The network is never waited on inside the worker's transaction: on SQLite a transaction
holds the one write lock, which every webhook's intake needs to store its request, so a slow
media host or a slow SNS would hold up every provider's webhooks meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.fakes.scripted import ScriptedServer
from tests.harness import Api
from tests.ingest.test_batches import send, text_body
from tests.signing import CertificateServer, SnsSigner, serve_certificate
from tests.webhooks.providers import events, incoming, post_sns, ses_inbox, twilio_inbox
from tests.webhooks.test_twilio import FakeTwilioMedia

SLOW = 3.0  # seconds the slow host takes to answer
signer = SnsSigner()


@pytest.fixture
def twilio_media(loopback_only: None) -> Iterator[FakeTwilioMedia]:
    fake = FakeTwilioMedia().start()
    yield fake
    fake.stop()


@pytest.fixture
def sns(loopback_only: None) -> Iterator[ScriptedServer]:
    """SNS's SubscribeURL on loopback."""
    fake = ScriptedServer().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def certificate() -> Iterator[CertificateServer]:
    with serve_certificate(signer.certificate_pem) as server:
        yield server


def while_the_worker_waits_on(api: Api, host: ScriptedServer,
                              webhook: Callable[[], None]) -> None:
    """Run the worker; while it waits on `host`, a webhook must be stored and answered."""
    worker = threading.Thread(target=api.run_worker)
    worker.start()
    deadline = time.monotonic() + 10
    while not host.requests:
        assert time.monotonic() < deadline, "the worker never called the host"
        time.sleep(0.02)
    started = time.monotonic()
    webhook()
    assert time.monotonic() - started < SLOW / 2
    assert worker.is_alive()  # still waiting on the host
    worker.join(30)
    api.run_worker()


def test_a_slow_media_host_does_not_hold_up_the_webhooks_meanwhile(
        api: Api, twilio_media: FakeTwilioMedia) -> None:
    sms = twilio_inbox(api, api_base_url=twilio_media.url)
    twilio_media.queue(200, None, delay=SLOW, **{"Content-Type": "image/jpeg"})
    send(api, sms.inbound_path, text_body("MM0001", "+14155550142", "Photo", with_photo=True))
    while_the_worker_waits_on(api, twilio_media, lambda: send(
        api, sms.inbound_path, text_body("SM0002", "+14155550143", "Meanwhile, a text")))
    assert sorted(m.text for m in incoming(api)) == ["Meanwhile, a text", "Photo"]


def test_a_slow_sns_confirmation_does_not_hold_up_the_webhooks_meanwhile(
        api: Api, sns: ScriptedServer, certificate: CertificateServer) -> None:
    inbox = ses_inbox(api)
    sms = twilio_inbox(api)
    sns.queue(200, None, delay=SLOW)
    response = post_sns(api, inbox.inbound_path, "sns__subscription_confirmation", signer,
                        certificate.url,
                        SubscribeURL=f"{sns.url}/?Action=ConfirmSubscription&Token=t0ken")
    assert response.status_code == 200, response.text
    while_the_worker_waits_on(api, sns, lambda: send(
        api, sms.inbound_path, text_body("SM0002", "+14155550143", "Meanwhile, a text")))
    assert [m.text for m in incoming(api)] == ["Meanwhile, a text"]
    notes = [e.note or "" for e in events(api) if e.inbox_id == inbox.id]
    assert len(notes) == 1 and "confirmed" in notes[0]
