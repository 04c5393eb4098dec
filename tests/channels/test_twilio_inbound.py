"""Twilio inbound: what an agent sees for each SMS, MMS, WhatsApp message and status callback."""

from __future__ import annotations

import hashlib

import pytest

from clientcontact.channels.base import (
    ChannelKind,
    DeliveryStatus,
    InboundMessage,
    RawRequest,
    StatusUpdate,
)
from clientcontact.channels.twilio.inbound import EMPTY_TWIML, TwilioInbound
from clientcontact.errors import BadPayload, Unauthenticated
from tests.signing import (
    RECEIVED_AT,
    TWILIO_AUTH_TOKEN,
    TWILIO_URL,
    load_fixture,
    signed_twilio,
    twilio_signature,
)

twilio = TwilioInbound(TWILIO_AUTH_TOKEN)


def receive(name: str) -> list:
    request = signed_twilio(name)
    twilio.verify(request)
    return twilio.parse(request)


def message(name: str) -> InboundMessage:
    [event] = receive(name)
    assert isinstance(event, InboundMessage)
    return event


def status(name: str) -> StatusUpdate:
    [event] = receive(name)
    assert isinstance(event, StatusUpdate)
    return event


class TestMessages:
    def test_plain_sms_shows_sender_number_and_text(self) -> None:
        sms = message("sms_inbound__plain")
        assert (sms.channel, sms.sender, sms.recipient) == (
            ChannelKind.SMS,
            "+14155550142",
            "+15005550006",
        )
        assert sms.text == "Hi, is my order #1042 shipping today?"
        assert sms.external_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
        assert sms.attachments == () and sms.occurred_at == RECEIVED_AT

    def test_mms_with_two_images_shows_both_as_attachments_to_fetch(self) -> None:
        mms = message("sms_inbound__mms_two_images")
        assert mms.text == "Here is the damaged box, front and back"
        assert [(a.filename, a.content_type) for a in mms.attachments] == [
            ("media-1.jpg", "image/jpeg"),
            ("media-2.png", "image/png"),
        ]
        assert all(
            a.url.startswith("https://api.twilio.com/") and a.data is None for a in mms.attachments
        )

    def test_whatsapp_text_shows_profile_name_without_the_whatsapp_prefix(self) -> None:
        wa = message("whatsapp_inbound__text")
        assert (wa.channel, wa.sender, wa.recipient) == (
            ChannelKind.WHATSAPP,
            "+14155550142",
            "+14155238886",
        )
        assert wa.sender_name == "Dana Whitfield"
        assert wa.text == "Hola! Can I change my delivery address?"

    def test_whatsapp_button_reply_shows_the_button_and_the_message_it_answers(self) -> None:
        reply = message("whatsapp_inbound__button_reply")
        assert reply.text == "Yes, confirm"
        assert reply.in_reply_to == "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"

    def test_message_is_acknowledged_with_empty_twiml(self) -> None:
        ack = twilio.acknowledge(receive("sms_inbound__plain"))
        assert (ack.status_code, ack.body, ack.media_type) == (200, EMPTY_TWIML, "text/xml")


class TestStatusCallbacks:
    def test_sent(self) -> None:
        update = status("status__sent")
        assert update.provider_message_id == "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
        assert (update.status, update.error_code, update.error_text) == (
            DeliveryStatus.SENT,
            None,
            None,
        )

    def test_delivered(self) -> None:
        assert status("status__delivered").status is DeliveryStatus.DELIVERED

    def test_whatsapp_read_receipt_marks_the_message_read(self) -> None:
        assert status("status__read_whatsapp").status is DeliveryStatus.READ

    def test_undelivered_sms_shows_carrier_error_to_agent(self) -> None:
        update = status("status__undelivered_30007")
        assert (update.status, update.error_code) == (DeliveryStatus.FAILED, "30007")
        assert update.error_text == "The carrier filtered this message as spam."

    def test_whatsapp_outside_24_hours_tells_agent_to_use_a_template(self) -> None:
        update = status("status__failed_63016")
        assert (update.status, update.error_code) == (DeliveryStatus.FAILED, "63016")
        assert "approved template" in update.error_text

    def test_canceled_scheduled_message_fails_with_an_explanation(self) -> None:
        update = status("status__canceled")
        assert (update.status, update.error_code) == (DeliveryStatus.FAILED, None)
        assert update.error_text == "The message was canceled before it was sent."

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("status__accepted_messaging_service", DeliveryStatus.QUEUED),
            ("status__scheduled", DeliveryStatus.QUEUED),
            ("status__queued", DeliveryStatus.QUEUED),
            ("status__sending", DeliveryStatus.SENDING),
            ("status__partially_delivered", DeliveryStatus.DELIVERED),
        ],
    )
    def test_intermediate_statuses(self, name: str, expected: DeliveryStatus) -> None:
        assert status(name).status is expected

    def test_each_callback_step_has_its_own_idempotency_key(self) -> None:
        sent, delivered = signed_twilio("status__sent"), signed_twilio("status__delivered")
        assert twilio.external_id(sent) == "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6:sent"
        assert twilio.external_id(delivered) == "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6:delivered"
        assert twilio.external_id(signed_twilio("sms_inbound__plain")) == (
            "SM1f0e8ae6ade43cb3c0ce4525424e404f"
        )

    def test_a_status_twilio_adds_later_is_ignored_not_lost(self) -> None:
        request = _unsigned(b"MessageSid=SMx&MessageStatus=teleported&SmsStatus=teleported")
        [event] = twilio.parse(request)
        assert "teleported" in event.reason


class TestSignature:
    def test_wrong_auth_token_is_refused(self) -> None:
        with pytest.raises(Unauthenticated):
            TwilioInbound("another-accounts-token").verify(signed_twilio("sms_inbound__plain"))

    def test_missing_signature_header_is_refused(self) -> None:
        fixture = load_fixture("twilio", "sms_inbound__plain")
        with pytest.raises(Unauthenticated, match="missing"):
            twilio.verify(fixture.request(TWILIO_URL))

    def test_tampered_body_is_refused(self) -> None:
        request = signed_twilio("sms_inbound__plain")
        tampered = request.body.replace(b"shipping+today", b"refunded+today")
        with pytest.raises(Unauthenticated):
            twilio.verify(_with(request, body=tampered))

    def test_signature_for_another_url_is_refused(self) -> None:
        request = signed_twilio("sms_inbound__plain", url="https://attacker.example.net/hook")
        with pytest.raises(Unauthenticated):
            twilio.verify(_with(request, url=TWILIO_URL))

    def test_url_with_explicit_default_port_still_verifies(self) -> None:
        url = "https://inbox.example.com:443/api/webhooks/sms/twilio?inbox=k_7Hq2"
        twilio.verify(_with(signed_twilio("sms_inbound__plain"), url=url))

    def test_json_body_is_verified_by_its_sha256_in_the_url(self) -> None:
        body = b'{"MessageSid": "SMx"}'
        url = f"{TWILIO_URL}&bodySHA256={hashlib.sha256(body).hexdigest()}"
        request = RawRequest(
            "POST",
            url,
            {"content-type": "application/json", "x-twilio-signature": twilio_signature(url, b"")},
            body,
        )
        twilio.verify(request)
        with pytest.raises(Unauthenticated, match="bodySHA256"):
            twilio.verify(_with(request, body=b'{"MessageSid": "SMy"}'))


class TestMalformed:
    @pytest.mark.parametrize("body", [b"%ZZ=\xff\xfe", b"no-equals-sign", b"Body=hello"])
    def test_unreadable_or_incomplete_form_is_a_bad_payload(self, body: bytes) -> None:
        with pytest.raises(BadPayload):
            twilio.parse(_unsigned(body))

    def test_media_count_without_media_urls_is_a_bad_payload(self) -> None:
        body = b"MessageSid=MMx&SmsStatus=received&From=%2B14155550142&NumMedia=2&MediaUrl0=u"
        with pytest.raises(BadPayload, match="MediaUrl1"):
            twilio.parse(_unsigned(body))


def _unsigned(body: bytes) -> RawRequest:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": "never-checked-by-parse",
    }
    return RawRequest("POST", TWILIO_URL, headers, body)


def _with(request: RawRequest, **changes: object) -> RawRequest:
    return RawRequest(**{**request.__dict__, **changes})
