"""SendGrid over HTTP: Inbound Parse mail (signed, or with the inbox's URL secret) and the
signed Event Webhook moving our messages' statuses."""

from __future__ import annotations

import pytest

from clientcontact.channels.base import ChannelKind
from clientcontact.conversations.models import Attachment, Message
from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api
from tests.signing import SendGridSigner, load_fixture
from tests.webhooks.providers import (
    INBOUND_EMAIL,
    count,
    events,
    incoming,
    message,
    post,
    post_sendgrid,
    provider_inbox,
    sendgrid_inbox,
    sent_message,
)

SHARED = "/api/webhooks/email/sendgrid"
SENT_ID = "Bi5qYeC2TIyZ5gAAzk4E7w"  # X-Message-Id of the send the event fixtures are about
OTHER_ID = "Kz8pWdR1QmGx3hTcLbNf2A"


@pytest.fixture(scope="module")
def signer() -> SendGridSigner:
    return SendGridSigner()


class TestInboundParse:
    def test_raw_mime_mail_becomes_a_conversation(self, api: Api, signer: SendGridSigner) -> None:
        inbox = sendgrid_inbox(api, signer)
        assert post_sendgrid(api, SHARED, "inbound_parse__raw_mime", signer).status_code == 200
        api.run_worker()
        [mail] = incoming(api)
        assert (mail.inbox_id, mail.subject) == (inbox.id, "Refund for order #1042")

    def test_parsed_mode_keeps_the_attachment(self, api: Api, signer: SendGridSigner) -> None:
        inbox = sendgrid_inbox(api, signer)
        response = post_sendgrid(api, inbox.inbound_path,
                                 "inbound_parse__parsed_reply_with_attachment", signer)
        assert response.status_code == 200
        api.run_worker()
        [mail] = incoming(api)
        assert mail.subject == "Re: Your order #1042"
        with api.session() as session:
            files = session.query(Attachment).filter_by(message_id=mail.id).all()
            assert [f.filename for f in files] == ["receipt.png"]

    def test_an_inbox_without_a_signing_key_checks_the_secret_in_its_url(self, api: Api) -> None:
        provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                       address=INBOUND_EMAIL,
                       credentials={"api_key": "SG.x", "inbound_secret": "s3cret-in-url"})
        fixture = load_fixture("sendgrid", "inbound_parse__charset_iso8859")
        wrong = post(api, f"{SHARED}?secret=guess", fixture.body, fixture.headers)
        right = post(api, f"{SHARED}?secret=s3cret-in-url", fixture.body, fixture.headers)
        assert (wrong.status_code, right.status_code) == (401, 200)
        api.run_worker()
        assert len(incoming(api)) == 1

    def test_an_unsigned_post_is_refused_and_nothing_is_stored(
            self, api: Api, signer: SendGridSigner) -> None:
        sendgrid_inbox(api, signer)
        fixture = load_fixture("sendgrid", "inbound_parse__raw_mime")
        assert post(api, SHARED, fixture.body, fixture.headers).status_code == 401
        assert count(api, InboundEventRow) == 0

    def test_mail_for_an_address_we_do_not_receive_at_is_404(
            self, api: Api, signer: SendGridSigner) -> None:
        response = post_sendgrid(api, SHARED, "inbound_parse__raw_mime", signer)
        assert response.status_code == 404
        assert count(api, InboundEventRow) == 0


class TestEventWebhook:
    def test_a_batch_moves_our_message_and_notes_the_one_sent_elsewhere(
            self, api: Api, signer: SendGridSigner) -> None:
        inbox = sendgrid_inbox(api, signer)
        reply = sent_message(api, inbox, SENT_ID)
        response = post_sendgrid(api, inbox.status_path, "event__delivered_batch", signer)
        assert response.status_code == 200
        api.run_worker()
        assert message(api, reply).status == "delivered"
        [event] = events(api)
        assert event.handled_at is not None
        assert f"no message of ours has provider id {OTHER_ID}" in (event.note or "")

    def test_a_hard_bounce_fails_our_message_with_the_reason(
            self, api: Api, signer: SendGridSigner) -> None:
        inbox = sendgrid_inbox(api, signer)
        reply = sent_message(api, inbox, SENT_ID)
        post_sendgrid(api, inbox.status_path, "event__bounce_hard", signer)
        api.run_worker()
        bounced = message(api, reply)
        assert (bounced.status, bounced.error_code) == ("failed", "5.1.1")
        assert count(api, Message) == 1

    def test_one_event_webhook_serves_every_inbox_of_the_account_on_that_sendgrid_account(
            self, api: Api, signer: SendGridSigner) -> None:
        support = sendgrid_inbox(api, signer)
        sales = provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                               address="sales@inbound.example.com", credentials={
                                   "api_key": "SG.test-key",
                                   "webhook_verification_key": signer.verification_key})
        strangers = provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                                   address="help@globex.example.com", person=api.carol,
                                   credentials={"api_key": "SG.other"})
        ours = sent_message(api, sales, SENT_ID)
        theirs = sent_message(api, strangers, SENT_ID, person=api.carol)
        post_sendgrid(api, support.status_path, "event__delivered_batch", signer)
        api.run_worker()
        assert message(api, ours).status == "delivered"
        assert message(api, theirs).status == "sent"  # another account's message: untouched
