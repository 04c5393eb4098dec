"""When handling fails, the provider's request is not lost: it stays stored with its error,
admins see it in the API, and `clientcontact replay-inbound` runs it again after the fix."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from clientcontact.channels.base import ChannelKind
from clientcontact.channels.registry import AdapterContext, adapter_for
from clientcontact.cli import cli
from clientcontact.db.base import utcnow
from clientcontact.errors import Unauthenticated
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.ingest import routing
from clientcontact.ingest.jobs import MAX_ATTEMPTS
from clientcontact.ingest.models import InboundEventRow
from clientcontact.jobs.models import Job
from tests.builders import inbox_id
from tests.harness import Api, settings_for_tests
from tests.signing import TWILIO_URL, SendGridSigner, load_fixture
from tests.webhooks.conftest import MAX_REQUEST_BYTES
from tests.webhooks.providers import (
    count,
    events,
    incoming,
    post,
    post_twilio,
    sendgrid_inbox,
    twilio_inbox,
)

NO_SENDER = (b"MessageSid=SMbroken0001&SmsStatus=received&To=%2B15005550006&From="
             b"&Body=hello")


def routing_bug(*args: object, **kwargs: object) -> None:
    raise RuntimeError("routing bug")


def retry_due_jobs_now(api: Api) -> None:
    with api.session() as session:
        session.execute(update(Job).values(run_after=utcnow()))
    api.run_worker()


def replay(api: Api, *args: str) -> tuple[int, str]:
    settings = api.settings
    env = {"DATABASE_URL": settings.resolved_database_url, "DATA_DIR": str(settings.data_dir),
           "SECRET_KEY": "test-secret-key", "PUBLIC_URL": settings.public_url,
           "EMAIL_SERVICE": "mock", "SMS_SERVICE": "mock"}
    result = CliRunner().invoke(cli, ["replay-inbound", *args], env=env)
    return result.exit_code, result.output


class TestFailedEvents:
    def test_an_unparseable_payload_stays_stored_with_its_error(self, api: Api) -> None:
        sms = twilio_inbox(api)
        response = post_twilio(api, sms.inbound_path, "sms_inbound__plain", body=NO_SENDER)
        assert response.status_code == 200  # stored: asking Twilio to resend would not help
        api.run_worker()
        [event] = events(api)
        assert event.handled_at is None and event.attempts == 1
        assert event.error == "BadPayload: Twilio message without From"
        assert event.body == NO_SENDER

    def test_admins_see_failed_events_of_their_own_account_only(self, api: Api) -> None:
        sms = twilio_inbox(api)
        post_twilio(api, sms.inbound_path, "sms_inbound__plain", body=NO_SENDER)
        post_twilio(api, sms.inbound_path, "sms_inbound__plain")
        api.run_worker()
        listed = api.alice.http.get("/api/v1/inbound-events", params={"state": "failed"})
        assert listed.status_code == 200
        assert [(e["inbox_id"], e["external_id"], e["error"]) for e in listed.json()] == [
            (sms.id, "SMbroken0001", "BadPayload: Twilio message without From")]
        handled = api.alice.http.get("/api/v1/inbound-events", params={"state": "handled"})
        assert [e["external_id"] for e in handled.json()] == ["SM1f0e8ae6ade43cb3c0ce4525424e404f"]
        assert api.carol.http.get("/api/v1/inbound-events").json() == []
        assert api.bob.http.get("/api/v1/inbound-events").status_code == 403

    def test_handling_stops_retrying_after_a_few_attempts(self, api: Api,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(routing, "route_message", routing_bug)
        sms = twilio_inbox(api)
        post_twilio(api, sms.inbound_path, "sms_inbound__plain")
        api.run_worker()
        for _ in range(MAX_ATTEMPTS + 2):
            retry_due_jobs_now(api)
        [event] = events(api)
        assert (event.attempts, event.error) == (MAX_ATTEMPTS, "RuntimeError: routing bug")
        assert event.handled_at is None and count(api, Job) == 0

    def test_replay_inbound_runs_failed_events_again_after_the_fix(
            self, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(routing, "route_message", routing_bug)
        sms = twilio_inbox(api)
        post_twilio(api, sms.inbound_path, "sms_inbound__plain")
        api.run_worker()
        assert incoming(api) == []
        monkeypatch.undo()  # the fix is deployed
        code, output = replay(api, "--all-failed")
        assert code == 0, output
        assert "1 of 1 inbound events handled" in output
        [event] = events(api)
        assert event.handled_at is not None and event.error is None
        assert [m.text for m in incoming(api)] == ["Hi, is my order #1042 shipping today?"]
        retry_due_jobs_now(api)  # the pending retry finds it handled and does nothing
        assert len(incoming(api)) == 1

    def test_replay_of_one_event_that_still_fails_says_why(self, api: Api) -> None:
        sms = twilio_inbox(api)
        post_twilio(api, sms.inbound_path, "sms_inbound__plain", body=NO_SENDER)
        api.run_worker()
        [event] = events(api)
        code, output = replay(api, "--id", str(event.id))
        assert code == 1
        assert f"event {event.id}: failed again: BadPayload" in output
        assert replay(api, "--id", "999999")[0] == 2


class TestRefusals:
    def test_an_unknown_public_key_is_404(self, api: Api) -> None:
        response = post_twilio(api, "/api/webhooks/inboxes/nope/inbound", "sms_inbound__plain")
        assert response.status_code == 404
        assert count(api, InboundEventRow) == 0

    def test_an_unknown_endpoint_is_404(self, api: Api) -> None:
        sms = twilio_inbox(api)
        path = sms.inbound_path.replace("/inbound", "/outbound")
        assert post_twilio(api, path, "sms_inbound__plain").status_code == 404

    def test_a_webhook_the_inbox_has_no_key_for_is_404(self, api: Api) -> None:
        inbox = sendgrid_inbox(api, SendGridSigner())
        with api.session() as session:  # the admin removes the Event Webhook key
            row = session.get_one(Inbox, inbox.id)
            row.credentials_encrypted = api.server.runtime.adapters.box.seal(
                {"api_key": "SG.x", "inbound_secret": "s"})
        assert post(api, inbox.status_path, b"[]", {}).status_code == 404

    def test_an_oversized_body_is_413_and_not_stored(self, api: Api) -> None:
        sms = twilio_inbox(api)
        body = b"Body=" + b"x" * (MAX_REQUEST_BYTES + 1)
        response = post_twilio(api, sms.inbound_path, "sms_inbound__plain", body=body)
        assert response.status_code == 413
        assert count(api, InboundEventRow) == 0

    def test_a_mock_inbox_refuses_webhooks_unless_the_operator_allows_them(
            self, api: Api) -> None:
        with api.session() as session:
            mock = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.EMAIL))
            path = f"/api/webhooks/inboxes/{mock.public_key}/inbound"
        body = b'{"id": "m1", "from": "maria@example.org", "to": "support@acme.test", ' \
               b'"text": "Hi"}'
        assert post(api, path, body, {"content-type": "application/json"}).status_code == 401
        assert count(api, InboundEventRow) == 0

    def test_the_unsigned_mock_flag_reaches_mock_inboxes_only(self, api: Api) -> None:
        settings = settings_for_tests(accept_unsigned_mock_webhooks=True)
        context = AdapterContext(settings=settings, box=CredentialBox("test-secret-key"))
        request = load_fixture("twilio", "sms_inbound__plain").request(TWILIO_URL)  # unsigned
        with api.session() as session:
            mock = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.EMAIL))
            adapter_for(mock, context).receivers["inbound"].verify(request)  # accepted
        sms = twilio_inbox(api)
        with api.session() as session:
            twilio = adapter_for(session.get_one(Inbox, sms.id), context)
            with pytest.raises(Unauthenticated, match="missing X-Twilio-Signature"):
                twilio.receivers["inbound"].verify(request)
