"""Sending email through the real SendGrid SDK, against a SendGrid fake on loopback."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from clientcontact.channels.base import (
    Attachment,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
)
from clientcontact.channels.sendgrid import SendGridSender
from tests.channels.outbound import CUSTOMER_ID, email_reply, send

OUR_ID = "<reply-7@support.example.com>"


def sender_for(fake, **options) -> SendGridSender:
    return SendGridSender(fake.api_key, host=fake.url, **{"timeout": 2.0, **options})


def reply(**fields) -> OutboundMessage:
    return email_reply(**{"text": "It shipped today.\n\nBest,\nSam", "email_message_id": OUR_ID,
                          **fields})


def test_a_reply_reaches_sendgrid_addressed_and_threaded(sendgrid_api):
    result = send(sender_for(sendgrid_api), reply(cc=("bob@example.org",)))

    (mail,) = sendgrid_api.sent
    assert mail["personalizations"] == [
        {
            "to": [{"email": "ada@example.org", "name": "Ada Lovelace"}],
            "cc": [{"email": "bob@example.org"}],
        }
    ]
    assert mail["from"] == {"email": "support@example.com", "name": "Example Support"}
    assert mail["reply_to"] == {"email": "reply+t0k3n@support.example.com"}
    assert mail["subject"] == "Re: Where is my order?"
    assert mail["headers"] == {
        "Message-ID": OUR_ID,
        "In-Reply-To": CUSTOMER_ID,
        "References": f"<order-1@shop.example.com> {CUSTOMER_ID}",
    }
    assert mail["custom_args"] == {"clientcontact_message_id": "7"}
    assert result.external_id and result.external_id == _x_message_id(sendgrid_api)
    assert result.email_message_id == OUR_ID


def test_plain_text_comes_first_and_an_html_twin_is_made_from_it(sendgrid_api):
    send(sender_for(sendgrid_api), reply(text="Line one\nLine <two>"))

    plain, html = sendgrid_api.sent[0]["content"]
    assert plain == {"type": "text/plain", "value": "Line one\nLine <two>"}
    assert html["type"] == "text/html"
    assert "Line one<br>" in html["value"] and "Line &lt;two&gt;" in html["value"]


def test_an_html_only_reply_gets_a_plain_text_part(sendgrid_api):
    send(sender_for(sendgrid_api), reply(text="", html="<p>Shipped <b>today</b>.</p>"))

    plain, html = sendgrid_api.sent[0]["content"]
    assert plain["value"] == "Shipped today."
    assert html["value"] == "<p>Shipped <b>today</b>.</p>"


def test_attachments_travel_base64_and_inline_images_keep_their_content_id(sendgrid_api):
    invoice = Attachment("invoice.pdf", "application/pdf", b"%PDF-1.7 invoice")
    logo = Attachment("logo.png", "image/png", b"\x89PNG logo", content_id="<logo@x>", inline=True)

    send(sender_for(sendgrid_api), reply(attachments=(invoice, logo)))

    first, second = sendgrid_api.sent[0]["attachments"]
    assert first == {
        "content": base64.b64encode(b"%PDF-1.7 invoice").decode(),
        "type": "application/pdf",
        "filename": "invoice.pdf",
        "disposition": "attachment",
    }
    assert second["disposition"] == "inline" and second["content_id"] == "logo@x"
    assert base64.b64decode(second["content"]) == b"\x89PNG logo"


def test_a_reply_without_our_message_id_gets_one_and_reports_it(sendgrid_api):
    result = send(sender_for(sendgrid_api), reply(email_message_id=None))

    sent_id = sendgrid_api.sent[0]["headers"]["Message-ID"]
    assert sent_id.startswith("<") and sent_id.endswith("@example.com>")
    assert result.email_message_id == sent_id


def test_the_customer_is_not_copied_twice(sendgrid_api):
    send(sender_for(sendgrid_api), reply(cc=("ADA@example.org",)))

    assert "cc" not in sendgrid_api.sent[0]["personalizations"][0]


def test_a_refused_send_is_permanent_with_sendgrid_messages_joined(sendgrid_api):
    sendgrid_api.queue(
        400,
        {
            "errors": [
                {
                    "message": "The from address does not match a verified Sender Identity.",
                    "field": "from",
                    "help": None,
                },
                {"message": "Invalid header.", "field": "headers", "help": None},
            ]
        },
    )

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(sendgrid_api), reply())

    assert refused.value.code == "400"
    assert refused.value.text == (
        "from: The from address does not match a verified Sender "
        "Identity.; headers: Invalid header."
    )


@pytest.mark.parametrize("status", [401, 403, 413])
def test_credentials_permissions_and_size_problems_are_permanent(sendgrid_api, status):
    sendgrid_api.queue(status, {"errors": [{"message": "nope", "field": None, "help": None}]})

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(sendgrid_api), reply())

    assert (refused.value.code, refused.value.text) == (str(status), "nope")


def test_sendgrid_unavailable_is_transient_and_the_next_attempt_goes_through(sendgrid_api):
    sendgrid_api.queue(503)
    sender = sender_for(sendgrid_api)

    with pytest.raises(TransientFailure) as failed:
        send(sender, reply())
    result = send(sender, reply())

    assert failed.value.code == "503"
    assert result.external_id
    assert len(sendgrid_api.sent) == 2


def test_rate_limiting_is_transient_and_honours_retry_after(sendgrid_api):
    sendgrid_api.queue(
        429, {"errors": [{"message": "too many requests", "field": None}]}, **{"Retry-After": "12"}
    )

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(sendgrid_api), reply())

    assert failed.value.retry_after == 12


def test_rate_limiting_without_retry_after_waits_until_the_limit_resets(sendgrid_api):
    reset = int(time.time()) + 40
    sendgrid_api.queue(
        429,
        {"errors": [{"message": "too many requests", "field": None}]},
        **{"X-RateLimit-Reset": str(reset)},
    )

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(sendgrid_api), reply())

    assert 35 <= failed.value.retry_after <= 41


def test_a_sendgrid_slower_than_the_timeout_is_transient(sendgrid_api):
    sendgrid_api.queue(202, delay=3.0)

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(sendgrid_api, timeout=0.5), reply())

    assert failed.value.code == "timeout"


def test_check_confirms_a_key_that_may_send_mail(sendgrid_api):
    status = asyncio.run(sender_for(sendgrid_api).check())

    assert status.credentials_valid is True


def test_check_reports_a_revoked_key(sendgrid_api):
    status = asyncio.run(SendGridSender("SG.revoked", host=sendgrid_api.url).check())

    assert status.credentials_valid is False
    assert "authorization grant is invalid" in status.detail


def test_check_reports_a_key_without_the_mail_send_scope(sendgrid_api):
    sendgrid_api.scopes = ["scopes.read", "stats.read"]

    status = asyncio.run(sender_for(sendgrid_api).check())

    assert status.credentials_valid is False
    assert "mail.send" in status.detail


def _x_message_id(fake) -> str | None:
    """What the fake answered: the send's X-Message-Id, as SendGrid's events will name it."""
    return fake.replies[-1].headers.get("X-Message-Id")
