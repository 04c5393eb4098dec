"""Twilio over HTTP: texts, WhatsApp, MMS media and status callbacks, as an agent sees them."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator

import pytest

from clientcontact.channels.base import ChannelKind
from clientcontact.channels.twilio.inbound import EMPTY_TWIML
from clientcontact.conversations.models import Attachment, Message
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.models import InboundEventRow
from tests.fakes.scripted import ReceivedRequest, Reply, ScriptedServer
from tests.harness import Api
from tests.signing import load_fixture, twilio_signature
from tests.webhooks.providers import (
    TWILIO_SID,
    TWILIO_TOKEN,
    count,
    events,
    incoming,
    message,
    post_twilio,
    sent_message,
    twilio_inbox,
)

SHARED = "/api/webhooks/sms/twilio"
SENT_SID = "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # the message every SMS status fixture is about
JPEG, PNG = b"\xff\xd8\xff\xe0 front of the box", b"\x89PNG\r\n\x1a\n back of the box"


class FakeTwilioMedia(ScriptedServer):
    """Twilio's media URLs on loopback: files only for the account's own basic auth."""

    def answer(self, request: ReceivedRequest) -> Reply:
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401)
        files = {"ME5b2a8c1d3e4f5a6b7c8d9e0f1a2b3c4d": (JPEG, "image/jpeg"),
                 "ME6c3b9d2e4f5a6b7c8d9e0f1a2b3c4d5e": (PNG, "image/png")}
        data, kind = files.get(request.path.rsplit("/", 1)[-1], (b"", ""))
        return Reply(200, data, {"Content-Type": kind}) if data else Reply(404)


@pytest.fixture
def media(loopback_only: None) -> Iterator[FakeTwilioMedia]:
    fake = FakeTwilioMedia()
    fake.start()
    yield fake
    fake.stop()


class TestInboundTexts:
    def test_an_sms_becomes_a_conversation_with_the_customer(self, api: Api) -> None:
        sms = twilio_inbox(api)
        response = post_twilio(api, SHARED, "sms_inbound__plain")
        assert response.status_code == 200
        assert response.content == EMPTY_TWIML
        assert response.headers["content-type"].startswith("text/xml")
        api.run_worker()
        [received] = incoming(api)
        assert (received.inbox_id, received.text) == (sms.id,
                                                      "Hi, is my order #1042 shipping today?")
        [event] = events(api)
        assert event.handled_at is not None and event.error is None
        assert event.note == f"message {received.id}"

    def test_a_whatsapp_message_lands_in_the_whatsapp_inbox_of_that_number(self, api: Api) -> None:
        twilio_inbox(api, ChannelKind.SMS)
        whatsapp = twilio_inbox(api, ChannelKind.WHATSAPP)
        assert post_twilio(api, SHARED, "whatsapp_inbound__text").status_code == 200
        api.run_worker()
        [received] = incoming(api)
        assert received.inbox_id == whatsapp.id
        assert received.text == "Hola! Can I change my delivery address?"

    def test_the_inbox_url_takes_a_whatsapp_button_reply(self, api: Api) -> None:
        whatsapp = twilio_inbox(api, ChannelKind.WHATSAPP)
        response = post_twilio(api, whatsapp.inbound_path, "whatsapp_inbound__button_reply")
        assert response.status_code == 200
        api.run_worker()
        assert [m.text for m in incoming(api)] == ["Yes, confirm"]

    def test_mms_images_are_copied_into_our_store(self, api: Api, media: FakeTwilioMedia) -> None:
        twilio_inbox(api, api_base_url=media.url)
        assert post_twilio(api, SHARED, "sms_inbound__mms_two_images").status_code == 200
        api.run_worker()
        [received] = incoming(api)
        with api.session() as session:
            files = list(session.query(Attachment).filter_by(message_id=received.id)
                         .order_by(Attachment.id))
            stored = [api.server.runtime.store.get(f.storage_key) for f in files]
        assert [(f.filename, f.content_type) for f in files] == [
            ("media-1.jpg", "image/jpeg"), ("media-2.png", "image/png")]
        assert stored == [JPEG, PNG]

    def test_media_twilio_cannot_serve_yet_is_listed_missing_and_retried(
            self, api: Api, media: FakeTwilioMedia) -> None:
        twilio_inbox(api, api_base_url=media.url)
        media.queue(503)  # the front of the box; the back comes at once
        post_twilio(api, SHARED, "sms_inbound__mms_two_images")
        api.run_worker()
        [event] = events(api)
        assert event.handled_at is not None and event.error is None
        [received] = incoming(api)  # the text is with the agent at once
        shown = api.alice.http.get(
            f"/api/v1/conversations/{received.conversation_id}/messages").json()["messages"]
        assert [a["filename"] for a in shown[0]["attachments"]] == ["media-2.png"]
        assert [(m["filename"], m["retrying"]) for m in shown[0]["missing_attachments"]] == [
            ("media-1.jpg", True)]


class TestSignatures:
    def test_a_forged_signature_is_refused_and_nothing_is_stored(self, api: Api) -> None:
        twilio_inbox(api)
        response = post_twilio(api, SHARED, "sms_inbound__plain", signature="Zm9yZ2Vk")
        assert response.status_code == 401
        assert count(api, InboundEventRow) == 0 and count(api, Message) == 0

    def test_a_missing_signature_is_refused(self, api: Api) -> None:
        sms = twilio_inbox(api)
        response = post_twilio(api, sms.inbound_path, "sms_inbound__plain", signature="")
        assert response.status_code == 401
        assert count(api, InboundEventRow) == 0

    def test_a_body_changed_after_signing_is_refused(self, api: Api) -> None:
        twilio_inbox(api)
        body = b"From=%2B14155550199&To=%2B15005550006&Body=Pay+me&SmsStatus=received" \
               b"&MessageSid=SMforged"
        genuine = post_twilio(api, SHARED, "sms_inbound__plain").request.headers
        response = post_twilio(api, SHARED, "sms_inbound__plain", body=body,
                               signature=genuine["x-twilio-signature"])
        assert response.status_code == 401
        assert count(api, InboundEventRow) == 1  # only the genuine one


    def test_after_the_auth_token_changes_only_the_new_token_is_trusted(self, api: Api) -> None:
        sms = twilio_inbox(api)
        assert post_twilio(api, SHARED, "sms_inbound__plain").status_code == 200  # now cached
        new_token = "abcdefabcdefabcdefabcdefabcdefab"
        with api.session() as session:
            inbox = session.get_one(Inbox, sms.id)
            inbox.credentials_encrypted = api.server.runtime.adapters.box.seal(
                {"account_sid": TWILIO_SID, "auth_token": new_token})
        fixture = load_fixture("twilio", "sms_inbound__plain")
        body = fixture.body.replace(b"SM1f0e8ae6", b"SM2f0e8ae6")  # another message
        old = post_twilio(api, SHARED, "sms_inbound__plain", body=body)
        signed = twilio_signature(api.settings.public_url + SHARED, body, new_token)
        new = post_twilio(api, SHARED, "sms_inbound__plain", body=body, signature=signed)
        assert (old.status_code, new.status_code) == (401, 200)
        assert count(api, InboundEventRow) == 2


class TestIdempotency:
    def test_the_same_message_sid_twice_is_one_event_and_one_message(self, api: Api) -> None:
        twilio_inbox(api)
        for _ in range(2):
            assert post_twilio(api, SHARED, "sms_inbound__plain").status_code == 200
        api.run_worker()
        assert count(api, InboundEventRow) == 1 and len(incoming(api)) == 1

    def test_the_same_message_sid_at_once_from_many_threads(self, api: Api) -> None:
        sms = twilio_inbox(api)
        statuses: list[int] = []

        def deliver() -> None:
            statuses.append(post_twilio(api, sms.inbound_path, "sms_inbound__plain").status_code)

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        api.run_worker()
        assert statuses == [200] * 8
        assert count(api, InboundEventRow) == 1 and len(incoming(api)) == 1

    def test_forged_and_misaddressed_webhooks_in_a_burst_are_refused_alone(
            self, api: Api) -> None:
        twilio_inbox(api)
        fixture = load_fixture("twilio", "sms_inbound__plain")
        genuine = [fixture.body.replace(b"SM1f0e8ae6", f"SM{n:08x}".encode())
                   for n in range(12)]
        nobody = genuine[0].replace(b"SM", b"SX").replace(b"%2B15005550006", b"%2B15005550999")
        answers: dict[str, int] = {}

        def deliver(name: str, body: bytes, signature: str | None = None) -> None:
            response = post_twilio(api, SHARED, "sms_inbound__plain", body=body,
                                   signature=signature)
            answers[name] = response.status_code

        burst = [threading.Thread(target=deliver, args=(f"genuine {n}", body))
                 for n, body in enumerate(genuine)]
        burst.append(threading.Thread(target=deliver, args=("forged", genuine[1], "forged")))
        burst.append(threading.Thread(target=deliver, args=("to nobody", nobody)))
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join()
        assert answers.pop("forged") == 401
        assert answers.pop("to nobody") == 404
        assert set(answers.values()) == {200}
        api.run_worker()
        assert count(api, InboundEventRow) == 12 and len(incoming(api)) == 12


class TestStatusCallbacks:
    def test_delivered_moves_our_message_forward(self, api: Api) -> None:
        sms = twilio_inbox(api)
        reply = sent_message(api, sms, SENT_SID)
        assert post_twilio(api, sms.status_path, "status__delivered").status_code == 200
        api.run_worker()
        assert message(api, reply).status == "delivered"

    def test_a_late_sent_after_delivered_changes_nothing(self, api: Api) -> None:
        sms = twilio_inbox(api)
        reply = sent_message(api, sms, SENT_SID)
        post_twilio(api, sms.status_path, "status__delivered")
        api.run_worker()
        post_twilio(api, sms.status_path, "status__sent")
        api.run_worker()
        assert message(api, reply).status == "delivered"
        assert count(api, InboundEventRow) == 2  # each step of a message is its own event
        assert events(api)[-1].note == f"message {reply} stays delivered"

    def test_callbacks_handled_at_once_never_move_a_status_backwards(self, api: Api) -> None:
        sms = twilio_inbox(api)
        reply = sent_message(api, sms, SENT_SID)
        for name in ("status__sending", "status__undelivered_30007", "status__delivered",
                     "status__sent", "status__partially_delivered", "status__queued"):
            post_twilio(api, sms.status_path, name)
        api.run_worker()  # several workers may take these at once, in any order
        assert message(api, reply).status == "delivered"

    def test_undelivered_shows_the_carrier_error(self, api: Api) -> None:
        sms = twilio_inbox(api)
        reply = sent_message(api, sms, SENT_SID)
        post_twilio(api, sms.status_path, "status__undelivered_30007")
        api.run_worker()
        failed = message(api, reply)
        assert (failed.status, failed.error_code) == ("failed", "30007")

    def test_a_callback_for_a_text_sent_elsewhere_is_handled_with_a_note(self, api: Api) -> None:
        sms = twilio_inbox(api)
        post_twilio(api, SHARED, "status__queued")  # shared path: our number is in From
        api.run_worker()
        [event] = events(api)
        assert event.inbox_id == sms.id and event.handled_at is not None
        assert event.note == f"no message of ours has provider id {SENT_SID}"
