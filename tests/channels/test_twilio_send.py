"""Sending SMS, MMS and WhatsApp through the real Twilio SDK, against a Twilio fake on loopback."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from clientcontact.channels.base import (
    ChannelKind,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
    WhatsAppTemplate,
)
from clientcontact.channels.twilio import TwilioSender

CUSTOMER = "(415) 555-2671"
CUSTOMER_E164 = "+14155552671"
INBOX_NUMBER = "+12127365000"


def sender_for(fake, **options) -> TwilioSender:
    options.setdefault("from_number", INBOX_NUMBER)
    options.setdefault("timeout", 2.0)
    return TwilioSender(fake.account_sid, fake.auth_token, api_base_url=fake.url, **options)


def sms(**fields) -> OutboundMessage:
    values = dict(
        message_id=7,
        account_id=1,
        inbox_id=1,
        channel=ChannelKind.SMS,
        to=CUSTOMER,
        from_address=INBOX_NUMBER,
        text="Your order shipped today.",
    )
    return OutboundMessage(**{**values, **fields})


def send(sender: TwilioSender, message: OutboundMessage):
    return asyncio.run(sender.send(message))


def test_an_sms_reaches_twilio_with_the_number_in_e164_and_our_status_callback(twilio_api):
    callback = "https://inbox.example.com/api/webhooks/sms/twilio/status"

    result = send(sender_for(twilio_api), sms(status_callback_url=callback))

    (form,) = twilio_api.sent
    assert form["To"] == [CUSTOMER_E164]
    assert form["From"] == [INBOX_NUMBER]
    assert form["Body"] == ["Your order shipped today."]
    assert form["StatusCallback"] == [callback]
    assert result.external_id.startswith("SM")


def test_an_mms_carries_each_media_url(twilio_api):
    photos = ("https://files.example.com/a.jpg", "https://files.example.com/b.png")

    result = send(sender_for(twilio_api), sms(media_urls=photos))

    assert twilio_api.sent[0]["MediaUrl"] == list(photos)
    assert result.external_id.startswith("MM")


def test_a_whatsapp_reply_uses_whatsapp_addresses_on_both_sides(twilio_api):
    send(sender_for(twilio_api), sms(channel=ChannelKind.WHATSAPP, to="whatsapp:+14155552671"))

    (form,) = twilio_api.sent
    assert form["To"] == [f"whatsapp:{CUSTOMER_E164}"]
    assert form["From"] == [f"whatsapp:{INBOX_NUMBER}"]


def test_a_whatsapp_template_sends_the_content_sid_and_variables_without_a_body(twilio_api):
    template = WhatsAppTemplate("HX" + "1" * 32, {"1": "Ada", "2": "tomorrow"})

    send(sender_for(twilio_api), sms(channel=ChannelKind.WHATSAPP, template=template))

    (form,) = twilio_api.sent
    assert form["ContentSid"] == [template.content_sid]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Ada", "2": "tomorrow"}
    assert "Body" not in form


def test_a_messaging_service_picks_the_sender_instead_of_a_from_number(twilio_api):
    service = "MG" + "2" * 32

    send(sender_for(twilio_api, messaging_service_sid=service), sms())

    (form,) = twilio_api.sent
    assert form["MessagingServiceSid"] == [service]
    assert "From" not in form


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("12345", "too few digits"),
        ("+999 123 456", "country code"),
        ("call me", "not a phone number"),
    ],
)
def test_an_invalid_number_is_refused_before_twilio_is_called(twilio_api, number, why):
    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(twilio_api), sms(to=number))

    assert refused.value.code == "invalid_number"
    assert number in refused.value.text and why in refused.value.text
    assert twilio_api.requests == []


def test_twilio_refusing_the_number_is_permanent_with_its_code_and_words(twilio_api):
    twilio_api.queue_error(21211, "The 'To' number +14155552671 is not a valid phone number.")

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(twilio_api), sms())

    assert refused.value.code == "21211"
    assert refused.value.text == "The 'To' number +14155552671 is not a valid phone number."


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21610, "Attempt to send to unsubscribed recipient"),
        (21614, "'To' number is not a valid mobile number"),
        (
            21408,
            "Permission to send an SMS has not been enabled for the region indicated by the "
            "'To' number",
        ),
        (63016, "Failed to send freeform message because you are outside the allowed window."),
    ],
)
def test_recipient_problems_are_permanent(twilio_api, code, message):
    twilio_api.queue_error(code, message)

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(twilio_api), sms())

    assert (refused.value.code, refused.value.text) == (str(code), message)


def test_twilio_unavailable_is_transient_and_the_next_attempt_goes_through(twilio_api):
    twilio_api.queue_error(20503, "Service Unavailable", status=503)
    sender = sender_for(twilio_api)

    with pytest.raises(TransientFailure) as failed:
        send(sender, sms())
    result = send(sender, sms())

    assert failed.value.code == "20503"
    assert result.external_id.startswith("SM")
    assert len(twilio_api.sent) == 2


def test_rate_limiting_is_transient_and_honours_retry_after(twilio_api):
    twilio_api.queue_error(20429, "Too Many Requests", status=429, **{"Retry-After": "30"})

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(twilio_api), sms())

    assert failed.value.retry_after == 30
    assert failed.value.code == "20429"


def test_a_twilio_slower_than_the_timeout_is_transient(twilio_api):
    twilio_api.queue(201, {"sid": "SM-too-late"}, delay=3.0)
    started = time.monotonic()

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(twilio_api, timeout=0.5), sms())

    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 2.5


def test_bad_credentials_are_permanent(twilio_api):
    sender = TwilioSender(
        twilio_api.account_sid,
        "wrong-token",
        from_number=INBOX_NUMBER,
        api_base_url=twilio_api.url,
        timeout=2.0,
    )

    with pytest.raises(PermanentFailure) as refused:
        send(sender, sms())

    assert refused.value.code == "20003"


def test_check_confirms_good_credentials_and_an_active_account(twilio_api):
    status = asyncio.run(sender_for(twilio_api).check())

    assert status.configured and status.credentials_valid is True
    assert "active" in status.detail


def test_check_reports_bad_credentials(twilio_api):
    sender = TwilioSender(twilio_api.account_sid, "wrong-token", api_base_url=twilio_api.url)

    status = asyncio.run(sender.check())

    assert status.credentials_valid is False
    assert "Authenticate" in status.detail
