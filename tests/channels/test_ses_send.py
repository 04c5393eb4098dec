"""Sending email through boto3's SES v2 client: real sends against moto's server on loopback,
and what moto cannot play (GetAccount, throttling, slow answers) against a scripted SES fake."""

from __future__ import annotations

import asyncio

import pytest

from clientcontact.channels.base import (
    Attachment,
    PermanentFailure,
    TransientFailure,
)
from clientcontact.channels.ses import SesSender
from tests.channels.outbound import CUSTOMER_ID, email_reply, send


def sender_for(url: str, *, region: str = "us-east-1", **options) -> SesSender:
    options.setdefault("timeout", 2.0)
    return SesSender(region, "testing", "testing", endpoint_url=url, **options)


def test_a_reply_arrives_as_threaded_multipart_mail(moto_ses):
    invoice = Attachment("invoice.pdf", "application/pdf", b"%PDF-1.7 invoice")

    send(sender_for(moto_ses.url), email_reply(cc=("bob@example.org",), attachments=(invoice,)))

    (mail,) = moto_ses.sent()
    assert mail["From"] == "Example Support <support@example.com>"
    assert mail["To"] == "Ada Lovelace <ada@example.org>"
    assert mail["Cc"] == "bob@example.org"
    assert mail["Reply-To"] == "reply+t0k3n@support.example.com"
    assert mail["In-Reply-To"] == CUSTOMER_ID
    assert mail["References"].split() == ["<order-1@shop.example.com>", CUSTOMER_ID]
    body = mail.get_body(("plain",))
    assert body.get_content().strip() == "It shipped today."
    assert mail.get_body(("html",)) is not None
    alternative = next(p for p in mail.walk() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    (attached,) = mail.iter_attachments()
    assert attached.get_filename() == "invoice.pdf"
    assert attached.get_content() == b"%PDF-1.7 invoice"


def test_the_message_id_returned_is_the_one_ses_writes_in_us_east_1(moto_ses):
    result = send(sender_for(moto_ses.url), email_reply())

    assert result.external_id
    assert result.email_message_id == f"<{result.external_id}@email.amazonses.com>"


def test_other_regions_name_themselves_in_the_message_id(ses_api):
    result = send(sender_for(ses_api.url, region="eu-west-1"), email_reply())

    assert result.email_message_id == f"<{result.external_id}@eu-west-1.amazonses.com>"


def test_an_unverified_sender_is_refused_permanently(moto_ses):
    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(moto_ses.url), email_reply(from_address="support@unverified.example.net"))

    assert refused.value.code == "MessageRejected"
    assert "support@unverified.example.net" in refused.value.text


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("MailFromDomainNotVerifiedException", "Mail-from domain is not verified."),
        ("AccountSuspendedException", "Your account has been suspended."),
        ("SendingPausedException", "Sending is paused for this account."),
        ("BadRequestException", "Missing final '@domain'"),
    ],
)
def test_account_and_request_problems_are_permanent(ses_api, code, message):
    ses_api.queue_error(code, message)

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(ses_api.url), email_reply())

    assert (refused.value.code, refused.value.text) == (code, message)


def test_throttling_is_transient_and_the_next_attempt_goes_through(ses_api):
    ses_api.queue_error("TooManyRequestsException", "Maximum sending rate exceeded.", 429)
    sender = sender_for(ses_api.url)

    with pytest.raises(TransientFailure) as failed:
        send(sender, email_reply())
    result = send(sender, email_reply())

    assert failed.value.code == "TooManyRequestsException"
    assert result.external_id


def test_ses_unavailable_is_transient(ses_api):
    ses_api.queue_error("ServiceUnavailable", "Service Unavailable", 503)

    with pytest.raises(TransientFailure):
        send(sender_for(ses_api.url), email_reply())


def test_an_ses_slower_than_the_timeout_is_transient(ses_api):
    ses_api.queue(200, {"MessageId": "too-late"}, delay=3.0)

    with pytest.raises(TransientFailure) as failed:
        send(sender_for(ses_api.url, timeout=0.5), email_reply())

    assert failed.value.code == "timeout"


def test_the_configuration_set_and_our_message_id_tag_travel_with_the_send(ses_api):
    send(sender_for(ses_api.url, configuration_set="clientcontact-events"), email_reply())

    request = ses_api.requests[0].json
    assert request["ConfigurationSetName"] == "clientcontact-events"
    assert request["EmailTags"] == [{"Name": "clientcontact_message_id", "Value": "7"}]


def test_check_confirms_keys_and_reports_the_account(ses_api):
    status = asyncio.run(sender_for(ses_api.url).check())

    assert status.credentials_valid is True
    assert "sending enabled" in status.detail and "production access" in status.detail


def test_check_reports_unknown_keys(ses_api):
    sender = SesSender("us-east-1", "AKIAWRONG", "wrong", endpoint_url=ses_api.url)

    status = asyncio.run(sender.check())

    assert status.credentials_valid is False
    assert "security token included in the request is invalid" in status.detail
