"""SendGrid inbound: Inbound Parse mail in both modes, and Event Webhook batches."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from clientcontact.channels.base import (
    DeliveryStatus,
    Ignored,
    InboundMessage,
    RawRequest,
    StatusUpdate,
)
from clientcontact.channels.sendgrid.events import SendGridEvents
from clientcontact.channels.sendgrid.inbound_parse import SendGridInboundParse
from clientcontact.errors import BadPayload, ConfigurationError, Unauthenticated
from tests.signing import RECEIVED_AT, SendGridSigner, load_fixture

PARSE_URL = "https://inbox.example.com/api/webhooks/email/sendgrid"
EVENTS_URL = "https://inbox.example.com/api/webhooks/email/sendgrid/events"
SECRET = "s3cr3t-inbox-key"
MESSAGE_1 = "Bi5qYeC2TIyZ5gAAzk4E7w"

signer = SendGridSigner()
events = SendGridEvents(signer.verification_key, clock=lambda: RECEIVED_AT)
parse_by_secret = SendGridInboundParse(SECRET, None)


def mail(name: str) -> InboundMessage:
    request = load_fixture("sendgrid", name).request(f"{PARSE_URL}?secret={SECRET}")
    parse_by_secret.verify(request)
    [event] = parse_by_secret.parse(request)
    assert isinstance(event, InboundMessage)
    return event


def batch(name: str) -> list:
    request = signer.request("sendgrid", name, EVENTS_URL)
    events.verify(request)
    return events.parse(request)


class TestInboundParse:
    def test_parsed_reply_shows_sender_text_attachment_and_threads_by_headers(self) -> None:
        reply = mail("inbound_parse__parsed_reply_with_attachment")
        assert (reply.sender, reply.sender_name) == ("dana@example.com", "Dana Whitfield")
        assert reply.subject == "Re: Your order #1042"
        assert reply.text.startswith("Thanks! The receipt is attached.")
        assert reply.html and "receipt is attached" in reply.html
        assert reply.in_reply_to == "<cc-4821.1732500000@mail.example.org>"
        assert reply.email_message_id == "<CAF=dana.reply.7731@mail.example.com>"
        [receipt] = reply.attachments
        assert (receipt.filename, receipt.content_type) == ("receipt.png", "image/png")
        assert receipt.data is not None and receipt.data.startswith(b"\x89PNG")

    def test_the_envelope_recipient_selects_the_inbox_not_the_to_header(self) -> None:
        reply = mail("inbound_parse__parsed_reply_with_attachment")
        assert reply.recipient == "support@inbound.example.com"
        assert reply.recipients == ("support@example.org",)

    def test_raw_mime_mode_gives_the_same_view_as_parsed_mode(self) -> None:
        refund = mail("inbound_parse__raw_mime")
        assert (refund.sender, refund.sender_name) == ("dana@example.com", "Dana Whitfield")
        assert refund.subject == "Refund for order #1042"
        assert refund.text.strip() == (
            "Hello, I would like a refund for order #1042 \u2014 it arrived broken."
        )
        assert refund.cc == ("ops@example.com",)
        assert refund.recipient == "support@inbound.example.com"

    def test_latin_text_is_decoded_with_the_posted_charsets(self) -> None:
        note = mail("inbound_parse__charset_iso8859")
        assert (note.sender, note.sender_name) == ("juergen@example.net", "Jürgen Müller")
        assert note.subject == "Grüße und eine Frage zur Rechnung"
        assert "über 42 € fehlt noch. Grüße aus Köln!" in note.text

    def test_a_repost_of_the_same_mail_has_the_same_idempotency_key(self) -> None:
        fixture = load_fixture("sendgrid", "inbound_parse__raw_mime")
        request = fixture.request(PARSE_URL)
        reposted = _repost(request, b"----------------------------5d2b4a1c7e9f", b"AnotherBnd")
        assert parse_by_secret.external_id(request) == parse_by_secret.external_id(reposted)
        assert parse_by_secret.external_id(request).startswith("sha256:")

    def test_secret_as_basic_auth_password_is_accepted(self) -> None:
        credentials = base64.b64encode(f"sendgrid:{SECRET}".encode()).decode()
        fixture = load_fixture("sendgrid", "inbound_parse__raw_mime")
        parse_by_secret.verify(
            fixture.request(PARSE_URL, {"authorization": f"Basic {credentials}"})
        )

    @pytest.mark.parametrize("url", [PARSE_URL, f"{PARSE_URL}?secret=guess", f"{PARSE_URL}?x=1"])
    def test_missing_or_wrong_secret_is_refused(self, url: str) -> None:
        with pytest.raises(Unauthenticated):
            parse_by_secret.verify(load_fixture("sendgrid", "inbound_parse__raw_mime").request(url))

    def test_an_inbox_without_secret_or_key_accepts_nothing(self) -> None:
        request = load_fixture("sendgrid", "inbound_parse__raw_mime").request(
            f"{PARSE_URL}?secret="
        )
        with pytest.raises(Unauthenticated):
            SendGridInboundParse(None, None).verify(request)

    def test_security_policy_signature_is_required_when_a_key_is_set(self) -> None:
        signed = SendGridInboundParse(None, signer.verification_key, clock=lambda: RECEIVED_AT)
        request = signer.request("sendgrid", "inbound_parse__raw_mime", PARSE_URL)
        signed.verify(request)
        with pytest.raises(Unauthenticated):
            signed.verify(_with(request, body=request.body.replace(b"refund", b"REFUND")))
        with pytest.raises(Unauthenticated):
            signed.verify(
                load_fixture("sendgrid", "inbound_parse__raw_mime").request(
                    f"{PARSE_URL}?secret={SECRET}"
                )
            )


class TestInboundParseMalformed:
    def test_body_that_is_not_multipart_is_a_bad_payload(self) -> None:
        request = RawRequest("POST", PARSE_URL, {"content-type": "application/json"}, b"{}")
        with pytest.raises(BadPayload, match="multipart/form-data"):
            parse_by_secret.parse(request)

    def test_truncated_multipart_is_a_bad_payload(self) -> None:
        request = load_fixture("sendgrid", "inbound_parse__raw_mime").request(PARSE_URL)
        with pytest.raises(BadPayload, match="truncated"):
            parse_by_secret.parse(_with(request, body=request.body[: len(request.body) // 2]))

    def test_broken_envelope_json_is_a_bad_payload(self) -> None:
        request = load_fixture("sendgrid", "inbound_parse__raw_mime").request(PARSE_URL)
        broken = request.body.replace(b'{"to": [', b'{"to": [[')
        with pytest.raises(BadPayload, match="envelope"):
            parse_by_secret.parse(_with(request, body=broken))

    def test_form_without_email_or_headers_is_a_bad_payload(self) -> None:
        body = b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--b--\r\n'
        request = RawRequest(
            "POST", PARSE_URL, {"content-type": "multipart/form-data; boundary=b"}, body
        )
        with pytest.raises(BadPayload, match="headers"):
            parse_by_secret.parse(request)


class TestEvents:
    def test_a_batch_moves_each_message_forward_by_its_x_message_id(self) -> None:
        updates = batch("event__delivered_batch")
        assert [(u.provider_message_id, u.status) for u in updates] == [
            (MESSAGE_1, DeliveryStatus.SENT),
            (MESSAGE_1, DeliveryStatus.DELIVERED),
            ("Kz8pWdR1QmGx3hTcLbNf2A", DeliveryStatus.DELIVERED),
            ("Kz8pWdR1QmGx3hTcLbNf2A", DeliveryStatus.READ),
        ]
        assert updates[1].occurred_at == datetime.fromtimestamp(1764036602, UTC)

    def test_hard_bounce_shows_the_receiving_servers_words(self) -> None:
        [bounce] = batch("event__bounce_hard")
        assert (bounce.status, bounce.error_code) == (DeliveryStatus.FAILED, "5.1.1")
        assert bounce.error_text.startswith("550 5.1.1 The email account")

    def test_dropped_shows_why_sendgrid_did_not_send(self) -> None:
        [dropped] = batch("event__dropped")
        assert (dropped.status, dropped.error_text) == (DeliveryStatus.FAILED, "Bounced Address")

    def test_open_marks_the_message_read(self) -> None:
        [opened] = batch("event__open")
        assert isinstance(opened, StatusUpdate) and opened.status is DeliveryStatus.READ

    def test_deferred_is_noted_but_does_not_fail_the_message(self) -> None:
        [deferred] = batch("event__deferred")
        assert isinstance(deferred, Ignored) and "retry later" in deferred.reason

    def test_spam_report_is_recorded_as_ignored_with_reason(self) -> None:
        [report] = batch("event__spamreport")
        assert isinstance(report, Ignored) and "marked the message as spam" in report.reason

    def test_unsubscribes_are_about_the_recipient_not_the_message(self) -> None:
        ignored = batch("event__unsubscribe_groups")
        assert [type(e) for e in ignored] == [Ignored] * 3
        assert "resubscribed" in ignored[2].reason

    def test_the_batch_digest_is_its_idempotency_key(self) -> None:
        request = signer.request("sendgrid", "event__open", EVENTS_URL)
        assert events.external_id(request) == events.external_id(request)
        assert events.external_id(request) != events.external_id(
            signer.request("sendgrid", "event__dropped", EVENTS_URL)
        )

    def test_an_event_sendgrid_adds_later_is_ignored_not_lost(self) -> None:
        body = b'[{"event": "machine_learned", "sg_message_id": "a.b", "timestamp": 1}]'
        [event] = events.parse(RawRequest("POST", EVENTS_URL, {}, body))
        assert "machine_learned" in event.reason


class TestEventSignature:
    def test_wrong_key_is_refused(self) -> None:
        other = SendGridEvents(SendGridSigner().verification_key, clock=lambda: RECEIVED_AT)
        with pytest.raises(Unauthenticated, match="does not match"):
            other.verify(signer.request("sendgrid", "event__open", EVENTS_URL))

    def test_missing_headers_are_refused(self) -> None:
        with pytest.raises(Unauthenticated, match="missing"):
            events.verify(load_fixture("sendgrid", "event__open").request(EVENTS_URL))

    def test_tampered_body_is_refused(self) -> None:
        request = signer.request("sendgrid", "event__open", EVENTS_URL)
        with pytest.raises(Unauthenticated):
            events.verify(_with(request, body=request.body.replace(b'"open"', b'"click"')))

    @pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
    def test_stale_or_future_timestamp_is_refused(self, skew: timedelta) -> None:
        request = signer.request("sendgrid", "event__open", EVENTS_URL, at=RECEIVED_AT + skew)
        with pytest.raises(Unauthenticated, match="stale"):
            events.verify(request)

    def test_a_key_that_is_not_p256_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError):
            SendGridEvents("bm90IGEga2V5")


class TestEventsMalformed:
    @pytest.mark.parametrize(
        ("body", "match"),
        [
            (b"[{]", "not JSON"),
            (b'{"event": "open"}', "array"),
            (b'[{"event": "open", "timestamp": 1}]', "sg_message_id"),
            (b'[{"event": "open", "sg_message_id": "a.b"}]', "timestamp"),
            (b'[{"sg_message_id": "a.b", "timestamp": 1}]', "event name"),
        ],
    )
    def test_unreadable_batch_is_a_bad_payload(self, body: bytes, match: str) -> None:
        with pytest.raises(BadPayload, match=match):
            events.parse(RawRequest("POST", EVENTS_URL, {}, body))


def _repost(request: RawRequest, old: bytes, new: bytes) -> RawRequest:
    headers = {
        **request.headers,
        "content-type": request.headers["content-type"].replace(old.decode(), new.decode()),
    }
    return RawRequest(request.method, request.url, headers, request.body.replace(old, new))


def _with(request: RawRequest, **changes: object) -> RawRequest:
    return RawRequest(**{**request.__dict__, **changes})
