"""SES through SNS over HTTP: received mail, sending notifications and the subscription
handshake, signed with a test key whose certificate is served on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clientcontact.conversations.models import Message
from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api
from tests.signing import CertificateServer, SnsSigner, serve_certificate
from tests.webhooks.providers import (
    count,
    events,
    incoming,
    message,
    post_sns,
    sent_message,
    ses_inbox,
)

SHARED = "/api/webhooks/email/ses"
SENT_ID = "0100019362c1a2b3-5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-000000"
signer = SnsSigner()


@pytest.fixture(scope="module")
def certificate() -> Iterator[CertificateServer]:
    with serve_certificate(signer.certificate_pem) as server:
        yield server


class TestReceivedMail:
    def test_a_reply_becomes_a_message_in_the_inbox_it_was_sent_to(
            self, api: Api, certificate: CertificateServer) -> None:
        inbox = ses_inbox(api)
        response = post_sns(api, SHARED, "sns__received_reply", signer, certificate.url)
        assert response.status_code == 200
        api.run_worker()
        [mail] = incoming(api)
        assert mail.inbox_id == inbox.id
        assert mail.text.startswith("Perfect, Thursday works for me.")

    def test_mail_with_a_virus_is_kept_raw_but_never_shown(
            self, api: Api, certificate: CertificateServer) -> None:
        inbox = ses_inbox(api)
        post_sns(api, inbox.inbound_path, "sns__received_virus_fail", signer, certificate.url)
        api.run_worker()
        [event] = events(api)
        assert event.note == "ignored: quarantined: virus" and incoming(api) == []

    def test_another_topic_is_refused_and_nothing_is_stored(
            self, api: Api, certificate: CertificateServer) -> None:
        ses_inbox(api)
        response = post_sns(api, SHARED, "sns__received_reply", signer, certificate.url,
                            TopicArn="arn:aws:sns:us-east-1:999999999999:someone-elses")
        assert response.status_code == 401
        assert count(api, InboundEventRow) == 0


class TestSendingNotifications:
    def test_a_permanent_bounce_fails_our_message(
            self, api: Api, certificate: CertificateServer) -> None:
        inbox = ses_inbox(api)
        reply = sent_message(api, inbox, SENT_ID)
        post_sns(api, SHARED, "sns__bounce_permanent", signer, certificate.url)
        api.run_worker()
        assert message(api, reply).status == "failed"

    def test_delivery_to_the_inbox_status_url(
            self, api: Api, certificate: CertificateServer) -> None:
        inbox = ses_inbox(api)
        reply = sent_message(api, inbox, SENT_ID)
        post_sns(api, inbox.status_path, "sns__delivery", signer, certificate.url)
        api.run_worker()
        assert message(api, reply).status == "delivered"
        assert count(api, Message) == 1


class TestSubscription:
    def test_a_confirmation_is_confirmed_by_the_job_not_the_request(
            self, api: Api, certificate: CertificateServer) -> None:
        inbox = ses_inbox(api)
        subscribe = certificate.url.replace("SimpleNotificationService-test.pem",
                                            "?Action=ConfirmSubscription&Token=t0ken")
        response = post_sns(api, inbox.inbound_path, "sns__subscription_confirmation", signer,
                            certificate.url, SubscribeURL=subscribe)
        assert response.status_code == 200
        assert not any("ConfirmSubscription" in path for path in certificate.fetched)
        api.run_worker()
        assert any("ConfirmSubscription" in path for path in certificate.fetched)
        [event] = events(api)
        assert event.handled_at is not None and "confirmed" in (event.note or "")

    def test_on_the_shared_path_a_confirmation_names_no_inbox(
            self, api: Api, certificate: CertificateServer) -> None:
        ses_inbox(api)
        response = post_sns(api, SHARED, "sns__subscription_confirmation", signer,
                            certificate.url)
        assert response.status_code == 404
        assert count(api, InboundEventRow) == 0
