"""Sending email with smtplib to an SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from clientcontact.channels.base import (
    Attachment,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
)
from clientcontact.channels.smtp import SmtpSender
from tests.channels.outbound import CUSTOMER_ID, email_reply, send

OUR_ID = "<reply-7@example.com>"


def sender_for(server, **options) -> SmtpSender:
    options = {"security": "none", "timeout": 2.0, **options}
    return SmtpSender(server.host, server.port, **options)


def reply(**fields) -> OutboundMessage:
    return email_reply(**{"html": "<p>It shipped <b>today</b>.</p>", "email_message_id": OUR_ID,
                          **fields})


def test_a_reply_arrives_with_our_message_id_and_threading_headers(smtp_server):
    result = send(sender_for(smtp_server), reply(cc=("bob@example.org",)))

    (received,) = smtp_server.received
    assert received.mail_from == "support@example.com"
    assert received.rcpt_tos == ("ada@example.org", "bob@example.org")
    mail = received.message
    assert mail["Message-ID"] == OUR_ID
    assert mail["In-Reply-To"] == CUSTOMER_ID
    assert mail["References"].split() == ["<order-1@shop.example.com>", CUSTOMER_ID]
    assert mail["Reply-To"] == "reply+t0k3n@support.example.com"
    assert mail["Subject"] == "Re: Where is my order?"
    assert result.external_id == result.email_message_id == OUR_ID


def test_text_and_html_arrive_as_alternatives_with_attachments_beside_them(smtp_server):
    invoice = Attachment("invoice.pdf", "application/pdf", b"%PDF-1.7 invoice")

    send(sender_for(smtp_server), reply(attachments=(invoice,)))

    mail = smtp_server.received[0].message
    assert mail.get_content_type() == "multipart/mixed"
    assert mail.get_body(("plain",)).get_content().strip() == "It shipped today."
    assert "<b>today</b>" in mail.get_body(("html",)).get_content()
    alternative = next(p for p in mail.walk() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    (attached,) = mail.iter_attachments()
    assert (attached.get_filename(), attached.get_content()) == ("invoice.pdf", b"%PDF-1.7 invoice")


def test_a_message_without_our_id_gets_one_and_reports_it(smtp_server):
    result = send(sender_for(smtp_server), reply(email_message_id=None))

    sent_id = smtp_server.received[0].message["Message-ID"]
    assert sent_id.endswith("@example.com>")
    assert result.email_message_id == sent_id


def test_an_unknown_mailbox_is_permanent_with_the_server_words(smtp_server):
    smtp_server.fail_next("RCPT", "550 5.1.1 <ada@example.org>: Recipient address rejected")

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(smtp_server), reply())

    assert refused.value.code == "550"
    assert "Recipient address rejected" in refused.value.text
    assert smtp_server.received == []


def test_greylisting_is_transient_and_the_next_attempt_goes_through(smtp_server):
    smtp_server.fail_next("DATA", "451 4.7.1 Greylisted, please try again later")
    sender = sender_for(smtp_server)

    with pytest.raises(TransientFailure) as deferred:
        send(sender, reply())
    send(sender, reply())

    assert deferred.value.code == "451"
    assert "Greylisted" in deferred.value.text
    assert len(smtp_server.received) == 1


def test_a_refused_sender_is_permanent(smtp_server):
    smtp_server.fail_next("MAIL", "553 5.7.1 Sender address rejected: not owned by user")

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(smtp_server), reply())

    assert refused.value.code == "553"


def test_a_refused_cc_does_not_fail_the_reply_to_the_customer(smtp_server):
    smtp_server.refuse_recipient("gone@example.org", "550 5.1.1 No such user")

    send(sender_for(smtp_server), reply(cc=("gone@example.org",)))

    assert smtp_server.received[0].rcpt_tos == ("ada@example.org",)


def test_a_refused_customer_fails_even_when_a_cc_got_the_reply(smtp_server):
    smtp_server.refuse_recipient("ada@example.org", "550 5.1.1 No such user")

    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(smtp_server), reply(cc=("bob@example.org",)))

    assert refused.value.code == "550"
    assert "delivered to cc only" in refused.value.text
    assert smtp_server.received[0].rcpt_tos == ("bob@example.org",)


def test_a_server_that_is_not_listening_is_transient():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmtpSender("127.0.0.1", port, security="none", timeout=1.0)

    with pytest.raises(TransientFailure) as failed:
        send(sender, reply())

    assert failed.value.code == "connection"


def test_a_server_that_never_greets_is_a_transient_timeout():
    with socket.socket() as silent:  # accepts connections, never says 220
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        sender = SmtpSender("127.0.0.1", silent.getsockname()[1], security="none", timeout=0.5)

        with pytest.raises(TransientFailure) as failed:
            send(sender, reply())

    assert failed.value.code == "timeout"


def test_login_then_send(smtp_server_with_auth):
    send(sender_for(smtp_server_with_auth, username="agent", password="s3cret"), reply())

    assert len(smtp_server_with_auth.received) == 1


def test_wrong_password_is_permanent(smtp_server_with_auth):
    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(smtp_server_with_auth, username="agent", password="nope"), reply())

    assert refused.value.code == "535"


def test_starttls_is_refused_permanently_by_a_server_without_it(smtp_server):
    with pytest.raises(PermanentFailure) as refused:
        send(sender_for(smtp_server, security="starttls"), reply())

    assert refused.value.code == "unsupported"


def test_check_confirms_a_server_that_accepts_our_login(smtp_server_with_auth):
    sender = sender_for(smtp_server_with_auth, username="agent", password="s3cret")

    status = asyncio.run(sender.check())

    assert status.credentials_valid is True


def test_check_reports_a_wrong_password(smtp_server_with_auth):
    sender = sender_for(smtp_server_with_auth, username="agent", password="nope")

    status = asyncio.run(sender.check())

    assert status.credentials_valid is False
    assert "535" in status.detail


def test_a_reply_travels_encrypted_and_authenticated(smtp_server_with_tls):
    server = smtp_server_with_tls
    sender = sender_for(
        server,
        security=server.security,
        username="agent",
        password="s3cret",
        ssl_context=server.client_ssl_context,
    )

    send(sender, reply())

    assert smtp_server_with_tls.received[0].message["Message-ID"] == OUR_ID


def test_an_untrusted_certificate_is_refused_permanently(smtp_server_with_tls):
    server = smtp_server_with_tls
    sender = sender_for(server, security=server.security, username="agent", password="s3cret")

    with pytest.raises(PermanentFailure) as refused:
        send(sender, reply())

    assert refused.value.code == "tls"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.text
    assert server.received == []
