"""SES through SNS: inbound mail, sending notifications and the subscription handshake.

Every request is signed with a test RSA key whose certificate a loopback server hands out, as
SNS would from sns.<region>.amazonaws.com.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from clientcontact.channels.base import DeliveryStatus, Ignored, InboundMessage, StatusUpdate
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.ses.sns import (
    SNS_HOST,
    SnsVerifier,
    SubscriptionConfirmation,
    TrustedHosts,
)
from clientcontact.errors import BadPayload, Unauthenticated
from tests.signing import CertificateServer, SnsSigner, load_fixture, serve_certificate

TOPIC = "arn:aws:sns:us-east-1:123456789012:clientcontact-ses"
SENT_ID = "0100019362c1a2b3-5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-000000"
LOOPBACK = TrustedHosts(host_patterns=(SNS_HOST, r"127\.0\.0\.1"), schemes=("https", "http"))

signer = SnsSigner()


@pytest.fixture(scope="module")
def certificate() -> Iterator[CertificateServer]:
    with serve_certificate(signer.certificate_pem) as server:
        yield server


@pytest.fixture
def ses(certificate: CertificateServer) -> SesInbound:
    return SesInbound(TOPIC, SnsVerifier(LOOPBACK))


def receive(ses: SesInbound, certificate: CertificateServer, name: str, version: str = "1"):
    request = signer.request(name, certificate.url, version)
    ses.verify(request)
    return ses.parse(request)


class TestInboundMail:
    def test_reply_shows_sender_text_and_threads_to_our_ses_message(self, ses, certificate):
        [reply] = receive(ses, certificate, "sns__received_reply")
        assert isinstance(reply, InboundMessage)
        assert (reply.sender, reply.sender_name) == ("dana@example.com", "Dana Whitfield")
        assert reply.recipient == "support@inbound.example.com"
        assert reply.text.startswith("Perfect, Thursday works for me. Merci !")
        assert reply.in_reply_to == f"<{SENT_ID}@email.amazonses.com>"

    def test_base64_content_with_a_pdf_attachment(self, ses, certificate):
        [mail] = receive(ses, certificate, "sns__received_base64", version="2")
        assert mail.sender == "lee@example.net"
        assert mail.text.strip() == "The invoice attached shows the wrong VAT number."
        [invoice] = mail.attachments
        assert (invoice.filename, invoice.content_type) == ("invoice-2231.pdf", "application/pdf")
        assert invoice.data.startswith(b"%PDF-1.4")

    def test_mail_with_a_virus_is_quarantined_not_shown(self, ses, certificate):
        assert receive(ses, certificate, "sns__received_virus_fail") == [
            Ignored("quarantined: virus")
        ]

    def test_the_sns_message_id_is_the_idempotency_key(self, ses, certificate):
        request = signer.request("sns__received_reply", certificate.url)
        assert ses.external_id(request) == "b1e0f7c3-2a4d-5e6f-8a9b-0c1d2e3f4a51"


class TestSendingNotifications:
    def test_permanent_bounce_fails_the_message_with_the_diagnostic(self, ses, certificate):
        [bounce] = receive(ses, certificate, "sns__bounce_permanent")
        assert isinstance(bounce, StatusUpdate)
        assert (bounce.provider_message_id, bounce.status) == (SENT_ID, DeliveryStatus.FAILED)
        assert (bounce.error_code, bounce.error_text) == ("5.1.1", "smtp; 550 5.1.1 user unknown")

    def test_transient_bounce_does_not_fail_the_message(self, ses, certificate):
        [bounce] = receive(ses, certificate, "sns__bounce_transient")
        assert isinstance(bounce, Ignored) and "Mailbox full" in bounce.reason

    def test_complaint_is_recorded_as_ignored_with_reason(self, ses, certificate):
        [complaint] = receive(ses, certificate, "sns__complaint")
        assert isinstance(complaint, Ignored) and "spam" in complaint.reason

    def test_delivery_marks_the_message_delivered(self, ses, certificate):
        [delivery] = receive(ses, certificate, "sns__delivery", version="2")
        assert (delivery.provider_message_id, delivery.status) == (
            SENT_ID,
            DeliveryStatus.DELIVERED,
        )
        assert delivery.occurred_at.isoformat() == "2026-11-25T02:30:01.546000+00:00"


class TestSubscription:
    def test_confirmation_request_becomes_an_event_to_confirm(self, ses, certificate):
        [event] = receive(ses, certificate, "sns__subscription_confirmation")
        assert isinstance(event, SubscriptionConfirmation) and event.topic_arn == TOPIC
        assert event.subscribe_url.startswith(
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
        )

    def test_confirming_visits_subscribe_url_after_verifying(self, ses, certificate):
        visited: list[str] = []
        client = httpx.Client(
            transport=httpx.MockTransport(
                lambda request: visited.append(str(request.url)) or httpx.Response(200)
            )
        )
        ses.confirm_subscription(
            signer.request("sns__subscription_confirmation", certificate.url), client=client
        )
        assert visited and visited[0].startswith("https://sns.us-east-1.amazonaws.com/?Action=")

    def test_a_forged_confirmation_is_never_visited(self, ses, certificate):
        request = signer.request("sns__subscription_confirmation", certificate.url)
        forged = request.body.replace(
            b"sns.us-east-1.amazonaws.com/?Action", b"metadata.example.net/?Action"
        )
        client = httpx.Client(transport=httpx.MockTransport(lambda r: pytest.fail("visited")))
        with pytest.raises(Unauthenticated):
            ses.confirm_subscription(_with_body(request, forged), client=client)

    def test_unsubscribe_confirmation_is_ignored(self, ses, certificate):
        [event] = receive(ses, certificate, "sns__unsubscribe_confirmation")
        assert isinstance(event, Ignored) and "subscription was removed" in event.reason


class TestSignature:
    def test_signature_by_another_key_is_refused(self, ses, certificate):
        request = SnsSigner().request("sns__delivery", certificate.url)
        with pytest.raises(Unauthenticated, match="does not match"):
            ses.verify(request)

    @pytest.mark.parametrize("version", ["1", "2"])
    def test_tampered_message_is_refused(self, ses, certificate, version):
        request = signer.request("sns__delivery", certificate.url, version)
        with pytest.raises(Unauthenticated, match="does not match"):
            ses.verify(_with_body(request, request.body.replace(b"Delivery", b"Bounce")))

    def test_missing_signature_is_refused(self, ses, certificate):
        envelope = json.loads(signer.request("sns__delivery", certificate.url).body)
        del envelope["Signature"]
        with pytest.raises(Unauthenticated):
            ses.verify(
                _with_body(
                    signer.request("sns__delivery", certificate.url), json.dumps(envelope).encode()
                )
            )

    @pytest.mark.parametrize(
        "cert_url",
        [
            "https://sns.us-east-1.amazonaws.com.attacker.example.net/cert.pem",
            "https://attacker.example.net/sns.us-east-1.amazonaws.com/cert.pem",
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        ],
    )
    def test_certificate_on_a_foreign_host_is_refused_and_never_fetched(self, cert_url):
        fetched: list[str] = []
        ses = SesInbound(TOPIC, SnsVerifier(fetch=lambda url: fetched.append(url) or b""))
        with pytest.raises(Unauthenticated, match="trusted SNS host"):
            ses.verify(signer.request("sns__delivery", cert_url))
        assert fetched == []

    def test_a_topic_this_inbox_did_not_pin_is_refused(self, certificate):
        other = SesInbound("arn:aws:sns:us-east-1:999999999999:someone-else", SnsVerifier(LOOPBACK))
        with pytest.raises(Unauthenticated, match="TopicArn"):
            other.verify(signer.request("sns__delivery", certificate.url))
        with pytest.raises(Unauthenticated, match="no SNS TopicArn"):
            SesInbound(None, SnsVerifier(LOOPBACK)).verify(
                signer.request("sns__delivery", certificate.url)
            )

    def test_unknown_signature_version_is_refused(self, ses, certificate):
        request = signer.request("sns__delivery", certificate.url)
        body = request.body.replace(b'"SignatureVersion": "1"', b'"SignatureVersion": "3"')
        with pytest.raises(Unauthenticated, match="SignatureVersion"):
            ses.verify(_with_body(request, body))

    def test_the_certificate_is_fetched_once_and_cached(self, certificate):
        verifier = SnsVerifier(LOOPBACK)
        before = len(certificate.fetched)
        for name in ("sns__delivery", "sns__complaint", "sns__bounce_permanent"):
            SesInbound(TOPIC, verifier).verify(signer.request(name, certificate.url))
        assert len(certificate.fetched) - before == 1

    def test_a_prefetched_certificate_makes_verifying_need_no_network(self, certificate):
        fetches: list[str] = []

        def fetch(url: str) -> bytes:
            fetches.append(url)
            return signer.certificate_pem

        verifier = SnsVerifier(LOOPBACK, fetch=fetch)
        request = signer.request("sns__delivery", certificate.url)
        verifier.prefetch(request.body)
        assert fetches == [certificate.url]
        SesInbound(TOPIC, verifier).verify(request)
        assert fetches == [certificate.url]

    def test_a_certificate_that_could_not_be_fetched_is_not_asked_for_again_at_once(self):
        fetches: list[str] = []

        def unreachable(url: str) -> bytes:
            fetches.append(url)
            raise httpx.ConnectError("unreachable")

        verifier = SnsVerifier(fetch=unreachable)
        request = signer.request("sns__delivery", "https://sns.us-east-1.amazonaws.com/c.pem")
        verifier.prefetch(request.body)  # says nothing: verify will
        with pytest.raises(Unauthenticated, match="could not load"):
            SesInbound(TOPIC, verifier).verify(request)
        assert len(fetches) == 1


class TestMalformed:
    @pytest.mark.parametrize(
        ("body", "match"),
        [
            (b"not json", "not JSON"),
            (b'{"Type": "Gossip", "MessageId": "x"}', "Notification"),
            (b'{"Type": "Notification"}', "MessageId"),
        ],
    )
    def test_unreadable_envelope_is_a_bad_payload(self, ses, body, match):
        request = load_fixture("ses", "sns__delivery").request("https://inbox.example.com/ses")
        with pytest.raises(BadPayload, match=match):
            ses.parse(_with_body(request, body))

    def test_notification_whose_message_is_not_ses_json_is_a_bad_payload(self, ses):
        envelope = json.loads(load_fixture("ses", "sns__delivery").body)
        request = load_fixture("ses", "sns__delivery").request("https://inbox.example.com/ses")
        for message, match in [
            ("{oops", "not SES JSON"),
            ('{"notificationType": "Delivery"}', "'delivery' object"),
        ]:
            body = json.dumps({**envelope, "Message": message}).encode()
            with pytest.raises(BadPayload, match=match):
                ses.parse(_with_body(request, body))


def _with_body(request, body: bytes):
    return request.__class__(**{**request.__dict__, "body": body})
