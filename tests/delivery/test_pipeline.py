"""An agent's reply, all the way: API → delivery job → worker → the provider's real SDK → a fake
of the provider on loopback. Each provider is chosen by environment, as in production (the
default inboxes use EMAIL_SERVICE / SMS_SERVICE and their keys), and each story is told for every
provider it applies to, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update

from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import ContactIdentity
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.delivery.sending import send_messages
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import claim
from tests.builders import Thread, customer_writes
from tests.delivery.providers import (
    INBOX_NUMBER,
    PROVIDERS,
    TIMEOUT_SECONDS,
    WHATSAPP_NUMBER,
    Delivered,
    Provider,
    reset,
)
from tests.harness import Api, AppServer, make_personas

ENGINES = ("sqlite", "postgresql")
T = TypeVar("T")
_numbers = itertools.count(1000)


def cases(*providers: str) -> list[Any]:
    return [pytest.param((p, e), id=f"{p}-{e}") for p in providers for e in ENGINES]


@dataclass
class Pipeline:
    provider: Provider
    fake: Any
    api: Api
    addresses: dict[int, str] = field(default_factory=dict)  # contact id → where we write

    def customer_writes(self, channel: ChannelKind | None = None, **options: Any) -> Thread:
        channel = channel or self.provider.channel
        n = next(_numbers)
        address = f"maria{n}@example.org" if channel is ChannelKind.EMAIL else f"+1212555{n}"
        thread = customer_writes(self.api, self.api.alice, channel=channel, address=address,
                                 email_message_id=f"<customer-{n}@mail.example.org>", **options)
        self.addresses[thread.contact_id] = address
        return thread

    def reply(self, thread: Thread, text: str = "A replacement is on its way.",
              **body: Any) -> dict[str, Any]:
        response = self.api.alice.http.post(
            f"/api/v1/conversations/{thread.conversation_id}/messages", json={"text": text, **body})
        assert response.status_code == 201, response.text
        return response.json()

    def message(self, message_id: int) -> dict[str, Any]:
        return self.api.alice.http.get(f"/api/v1/messages/{message_id}").json()

    def delivered(self) -> list[Delivered]:
        return self.provider.delivered(self.fake)

    def accepted(self) -> list[Delivered]:
        """Requests the provider answered with an id: what a customer would receive."""
        return [d for d in self.delivered() if d.provider_id]

    def next_run_in(self) -> float:
        with self.api.session() as session:
            [run_after] = session.scalars(select(Job.run_after)).all()
        return (run_after - utcnow()).total_seconds()

    def time_passes(self) -> None:
        """Every waiting retry becomes due, as if its backoff or Retry-After had elapsed."""
        with self.api.session() as session:
            session.execute(update(Job).values(run_after=utcnow()))


@pytest.fixture(scope="module")
def pipeline(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    provider_name, engine = request.param
    provider = PROVIDERS[provider_name]
    data_dir: Path = tmp_path_factory.mktemp(f"{provider_name}-{engine}")
    database_url = (f"sqlite:///{data_dir / 'test.db'}" if engine == "sqlite"
                    else request.getfixturevalue("postgres_databases")())
    fake = provider.start()
    server = AppServer.start(database_url=database_url, data_dir=data_dir,
                             provider_timeout_seconds=TIMEOUT_SECONDS, **provider.settings(fake))
    yield Pipeline(provider, fake, Api(server, make_personas(server)))
    server.stop()
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest, loopback_only: None) -> Iterator[None]:
    """Each story starts with an empty queue and a fake that has received nothing."""
    if "pipeline" not in request.fixturenames:
        yield
        return
    pipeline: Pipeline = request.getfixturevalue("pipeline")
    reset(pipeline.fake)
    yield
    reset(pipeline.fake)
    with pipeline.api.session() as session:
        session.execute(Job.__table__.delete())


def send_and_work(pipeline: Pipeline, text: str = "A replacement is on its way.") -> int:
    thread = pipeline.customer_writes()
    message = pipeline.reply(thread, text)
    pipeline.api.run_worker()
    return message["id"]


@pytest.mark.parametrize("pipeline", cases(*PROVIDERS), indirect=True)
def test_a_reply_reaches_the_provider_and_ends_sent_with_its_id(pipeline: Pipeline) -> None:
    thread = pipeline.customer_writes()
    queued = pipeline.reply(thread, "Your parcel left the warehouse today.")
    assert queued["status"] == "queued" and pipeline.delivered() == []

    pipeline.api.run_worker()

    [delivered] = pipeline.delivered()
    message = pipeline.message(queued["id"])
    assert message["status"] == "sent" and message["sent_at"] is not None
    assert message["external_id"] == delivered.provider_id
    assert delivered.text.strip() == "Your parcel left the warehouse today."
    assert delivered.to == pipeline.addresses[thread.contact_id]


@pytest.mark.parametrize("pipeline", cases("twilio"), indirect=True)
def test_an_sms_leaves_from_the_inbox_number_with_our_status_callback(pipeline: Pipeline) -> None:
    send_and_work(pipeline)

    [delivered] = pipeline.delivered()
    assert delivered.fields["From"] == INBOX_NUMBER
    assert delivered.fields["StatusCallback"].startswith(pipeline.api.settings.public_url)
    assert delivered.fields["StatusCallback"].endswith("/status")


@pytest.mark.parametrize("pipeline", cases("sendgrid"), indirect=True)
def test_sendgrid_carries_our_message_id_threading_headers_and_id_for_events(
        pipeline: Pipeline) -> None:
    message_id = send_and_work(pipeline)

    [delivered] = pipeline.delivered()
    message = pipeline.message(message_id)
    headers = delivered.fields["headers"]
    assert headers["Message-ID"] == message["email_message_id"]
    assert headers["In-Reply-To"] == message["in_reply_to"]
    assert delivered.fields["from"] == {"email": "support@acme.test", "name": "Acme Support"}
    assert delivered.fields["subject"] == "Re: Damaged order"
    assert delivered.fields["reply_to"]["email"].startswith("reply+")
    assert delivered.fields["custom_args"] == {"clientcontact_message_id": str(message_id)}


@pytest.mark.parametrize("pipeline", cases("ses"), indirect=True)
def test_ses_stores_the_message_id_ses_wrote_as_the_messages_message_id(
        pipeline: Pipeline) -> None:
    message_id = send_and_work(pipeline)

    [delivered] = pipeline.delivered()
    message = pipeline.message(message_id)
    assert message["email_message_id"] == f"<{delivered.provider_id}@email.amazonses.com>"
    assert delivered.fields["FromEmailAddress"] == "support@acme.test"
    assert delivered.fields["EmailTags"] == [
        {"Name": "clientcontact_message_id", "Value": str(message_id)}]
    assert delivered.mail is not None
    assert delivered.mail["In-Reply-To"] == message["in_reply_to"]
    assert delivered.mail["Subject"] == "Re: Damaged order"


@pytest.mark.parametrize("pipeline", cases("smtp"), indirect=True)
def test_smtp_keeps_our_message_id_as_the_provider_id(pipeline: Pipeline) -> None:
    message_id = send_and_work(pipeline)

    [delivered] = pipeline.delivered()
    message = pipeline.message(message_id)
    assert delivered.provider_id == message["email_message_id"] == message["external_id"]
    assert delivered.fields["From"] == "Acme Support <support@acme.test>"
    assert delivered.fields["In-Reply-To"] == message["in_reply_to"]


@pytest.mark.parametrize("pipeline", cases("twilio"), indirect=True)
def test_an_invalid_number_is_refused_without_calling_twilio(pipeline: Pipeline) -> None:
    thread = pipeline.customer_writes()
    with pipeline.api.session() as session:  # a number stored before numbers were checked
        session.execute(update(ContactIdentity)
                        .where(ContactIdentity.contact_id == thread.contact_id)
                        .values(value="+1 212 555"))
    queued = pipeline.reply(thread, "Hello?")

    pipeline.api.run_worker()

    failed = pipeline.message(queued["id"])
    assert failed["status"] == "failed" and failed["error_code"] == "invalid_number"
    assert "not a valid phone number" in failed["error_text"]
    assert pipeline.delivered() == []


@pytest.mark.parametrize("pipeline", cases(*PROVIDERS), indirect=True)
def test_a_transient_failure_is_retried_and_the_message_sent_once(pipeline: Pipeline) -> None:
    pipeline.provider.transient.script(pipeline.fake)
    message_id = send_and_work(pipeline)

    waiting = pipeline.message(message_id)
    assert waiting["status"] == "queued"
    assert waiting["error_code"] == pipeline.provider.transient.code
    assert waiting["error_text"].startswith("retrying:")
    assert 0 < pipeline.next_run_in() <= 5.0  # the first backoff: 2.5 to 5 s, jittered

    pipeline.time_passes()
    pipeline.api.run_worker()

    sent = pipeline.message(message_id)
    assert sent["status"] == "sent" and sent["error_text"] is None
    assert [d.provider_id for d in pipeline.accepted()] == [sent["external_id"]]


@pytest.mark.parametrize("pipeline", cases("twilio", "sendgrid", "ses"), indirect=True)
def test_a_timeout_is_retried_and_the_provider_may_have_it_twice(pipeline: Pipeline) -> None:
    """A timeout cannot tell 'never arrived' from 'accepted, answer lost': we send again, so the
    provider has accepted the message twice. That is the at-least-once promise."""
    pipeline.provider.slow(pipeline.fake, TIMEOUT_SECONDS + 1.0)
    message_id = send_and_work(pipeline)

    waiting = pipeline.message(message_id)
    assert waiting["status"] == "queued" and waiting["error_code"] == "timeout"

    pipeline.time_passes()
    pipeline.api.run_worker()

    assert pipeline.message(message_id)["status"] == "sent"
    assert len(pipeline.accepted()) == 2


@pytest.mark.parametrize("pipeline", cases("twilio", "sendgrid"), indirect=True)
def test_a_rate_limit_is_waited_out_for_as_long_as_retry_after_says(pipeline: Pipeline) -> None:
    pipeline.provider.rate_limited(pipeline.fake, 120)
    message_id = send_and_work(pipeline)

    assert 115 < pipeline.next_run_in() <= 120
    pipeline.api.run_worker()  # not due yet: nothing is sent early
    assert len(pipeline.delivered()) == 1

    pipeline.time_passes()
    pipeline.api.run_worker()

    assert pipeline.message(message_id)["status"] == "sent"
    assert len(pipeline.accepted()) == 1


@pytest.mark.parametrize("pipeline", cases(*PROVIDERS), indirect=True)
def test_a_permanent_refusal_fails_at_once_with_the_providers_words(pipeline: Pipeline) -> None:
    pipeline.provider.permanent.script(pipeline.fake)
    message_id = send_and_work(pipeline)

    failed = pipeline.message(message_id)
    assert failed["status"] == "failed" and failed["failed_at"] is not None
    assert failed["error_code"] == pipeline.provider.permanent.code
    assert pipeline.provider.permanent.text in failed["error_text"]
    assert pipeline.accepted() == []
    with pipeline.api.session() as session:
        assert session.scalars(select(Job)).all() == []  # never retried


@pytest.mark.parametrize("pipeline", cases("twilio"), indirect=True)
def test_a_whatsapp_template_goes_out_after_the_window_closed(pipeline: Pipeline) -> None:
    thread = pipeline.customer_writes(ChannelKind.WHATSAPP, at=utcnow() - timedelta(days=2))
    refused = pipeline.api.alice.http.post(
        f"/api/v1/conversations/{thread.conversation_id}/messages", json={"text": "Still there?"})
    assert refused.status_code == 422
    assert "window closed at" in refused.json()["error"]["message"]

    template = {"content_sid": "HX" + "a" * 32, "variables": {"1": "Maria", "2": "#10482"}}
    queued = pipeline.reply(thread, "", template=template)
    pipeline.api.run_worker()

    [delivered] = pipeline.delivered()
    assert delivered.fields["ContentSid"] == template["content_sid"]
    assert delivered.fields["ContentVariables"] == '{"1": "Maria", "2": "#10482"}'
    assert "Body" not in delivered.fields
    assert delivered.fields["From"] == f"whatsapp:{WHATSAPP_NUMBER}"
    assert delivered.to.startswith("whatsapp:+1212555")
    sent = pipeline.message(queued["id"])
    assert sent["status"] == "sent" and sent["template"] == template


def test_ses_through_moto_stores_the_message_id_ses_wrote(
        _moto_server: Any, loopback_only: None, tmp_path: Path) -> None:
    """Moto plays SES itself: the raw MIME we built is what it accepted."""
    _moto_server.reset(verified_domain="acme.test")
    server = AppServer.start(database_url=f"sqlite:///{tmp_path / 'test.db'}",
                             data_dir=tmp_path, email_service="ses",
                             aws_ses_access_key="testing", aws_ses_secret_key="testing",
                             aws_ses_endpoint_url=_moto_server.url)
    try:
        api = Api(server, make_personas(server))
        thread = customer_writes(api, api.alice, email_message_id="<first@mail.example.org>")
        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "It shipped."}).json()
        api.run_worker()

        message = api.alice.http.get(f"/api/v1/messages/{reply['id']}").json()
        [mail] = _moto_server.sent()
        assert message["status"] == "sent"
        assert message["email_message_id"] == (
            f"<{message['external_id']}@email.amazonses.com>")
        assert mail["In-Reply-To"] == "<first@mail.example.org>"
        assert mail["To"] == "Maria Garcia <maria@example.org>"
    finally:
        server.stop()


@pytest.mark.parametrize("pipeline", cases(*PROVIDERS), indirect=True)
def test_channel_status_proves_the_credentials_and_counts_the_queue(pipeline: Pipeline) -> None:
    before = channel_status(pipeline)
    pipeline.provider.permanent.script(pipeline.fake)
    send_and_work(pipeline)  # fails
    send_and_work(pipeline)  # sent
    pipeline.reply(pipeline.customer_writes())  # waits in the queue

    after = channel_status(pipeline)

    assert after["configured"] is True and after["credentials_valid"] is True, after["detail"]
    assert after["queue_depth"] == before["queue_depth"] + 1
    assert after["oldest_queued_age_seconds"] >= 0
    assert after["failures_last_hour"] == before["failures_last_hour"] + 1
    assert after["last_sent_at"] > (before["last_sent_at"] or "")


def channel_status(pipeline: Pipeline) -> dict[str, Any]:
    """The status of the inbox this provider serves by environment."""
    response = pipeline.api.alice.http.get("/api/v1/channels/status")
    assert response.status_code == 200, response.text
    [inbox] = [s for s in response.json() if s["provider"] == pipeline.provider.name
               and s["channel"] == pipeline.provider.channel]
    return inbox


@pytest.mark.parametrize("pipeline", cases("sendgrid"), indirect=True)
def test_one_batch_records_a_send_a_retry_and_a_refusal_each_as_itself(
        pipeline: Pipeline) -> None:
    """Three replies claimed and sent together: the provider accepts one, is briefly down for
    another and refuses the third. Each ends as the agent expects, whatever the order."""
    pipeline.provider.transient.script(pipeline.fake)
    pipeline.provider.permanent.script(pipeline.fake)
    queued = [pipeline.reply(pipeline.customer_writes(), f"Update {n}") for n in range(3)]

    pipeline.api.run_worker()

    messages = [pipeline.message(m["id"]) for m in queued]
    assert sorted(m["status"] for m in messages) == ["failed", "queued", "sent"]
    [waiting] = [m for m in messages if m["status"] == "queued"]
    assert waiting["error_text"].startswith("retrying:")
    [failed] = [m for m in messages if m["status"] == "failed"]
    assert failed["error_code"] == pipeline.provider.permanent.code
    assert len(pipeline.accepted()) == 1
    with pipeline.api.session() as session:  # only the retry is left, waiting its backoff
        [job] = session.scalars(select(Job)).all()
    assert job.payload["message_id"] == waiting["id"] and pipeline.next_run_in() > 0


@pytest.mark.parametrize("pipeline", cases("sendgrid"), indirect=True)
def test_a_reply_whose_lease_ran_short_is_not_sent_late_but_once_in_the_next_round(
        pipeline: Pipeline) -> None:
    """A batch held up behind a slow provider must not send after its lease could have passed
    to another worker: what is left goes back to the queue, untried, and is sent once."""
    queued = pipeline.reply(pipeline.customer_writes())
    runtime = pipeline.api.server.runtime.runner.runtime
    lease = runtime.settings.delivery_lease_seconds
    claimed_at = utcnow() - timedelta(seconds=lease * 0.6)  # long ago: little lease is left
    with unit_of_work(runtime.factory) as session:
        session.execute(update(Job).values(run_after=claimed_at))
        [job] = claim(session, limit=5, lease_seconds=lease, now=claimed_at)

    send_messages([job], runtime)

    assert pipeline.delivered() == []
    with pipeline.api.session() as session:
        [job] = session.scalars(select(Job)).all()
    assert job.attempts == 0 and job.lease_expires_at is None

    pipeline.api.run_worker()

    assert pipeline.message(queued["id"])["status"] == "sent"
    assert len(pipeline.delivered()) == 1


@pytest.mark.parametrize("pipeline", cases("sendgrid")[1:], indirect=True)  # postgresql
def test_a_reply_shows_sent_without_waiting_for_a_slower_one_sent_beside_it(
        pipeline: Pipeline) -> None:
    """Two replies go out at once and SendGrid takes its time over one of them: the other is
    recorded `sent` as soon as SendGrid accepts it, not when the slow one ends."""
    pipeline.fake.queue(202, delay=0.6, **{"X-Message-Id": "slow-to-answer"})
    queued = [pipeline.reply(pipeline.customer_writes(), f"Update {n}") for n in range(2)]
    worker = threading.Thread(target=pipeline.api.run_worker)
    worker.start()
    try:
        statuses = wait_until(lambda: sorted(pipeline.message(m["id"])["status"] for m in queued),
                              lambda seen: "sent" in seen, within=0.6)
    finally:
        worker.join()
    assert statuses == ["sending", "sent"]
    assert [pipeline.message(m["id"])["status"] for m in queued] == ["sent", "sent"]


def wait_until(look: Callable[[], T], done: Callable[[T], bool], *, within: float) -> T:
    """What `look` saw first when `done` held, or at the deadline."""
    deadline = time.monotonic() + within
    while not done(seen := look()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return seen


@pytest.mark.parametrize("pipeline", cases("sendgrid")[1:], indirect=True)  # postgresql
def test_a_send_whose_record_is_refused_does_not_strand_the_sends_recorded_with_it(
        pipeline: Pipeline) -> None:
    """SendGrid answers two of three replies with the same message id, which the database
    refuses twice in one inbox. The outcomes that share a commit with the refused one are
    still recorded: only that reply waits, to be sent again. (SQLite workers send one message
    at a time, so each outcome has a commit of its own and nothing is shared.)"""
    for message_id in ("sg-reused", "sg-fresh", "sg-reused"):
        pipeline.fake.queue(202, delay=0.5, **{"X-Message-Id": message_id})
    queued = [pipeline.reply(pipeline.customer_writes(), f"Update {n}") for n in range(3)]
    worker = threading.Thread(target=pipeline.api.run_worker)
    factory = pipeline.api.server.runtime.factory
    with unit_of_work(factory) as session:  # holds the first write, so the others queue up
        worker.start()
        wait_until(lambda: len(pipeline.delivered()), lambda n: n == 3, within=10)
        session.execute(select(Message.id).where(Message.id.in_([m["id"] for m in queued]))
                        .with_for_update())
        time.sleep(1.0)  # the sends end and their outcomes wait for the locked rows
    worker.join(timeout=30)

    messages = [pipeline.message(m["id"]) for m in queued]
    assert sorted(m["status"] for m in messages) == ["sending", "sent", "sent"]
    assert sorted(m["external_id"] or "" for m in messages) == ["", "sg-fresh", "sg-reused"]
    [waiting] = [m for m in messages if m["status"] == "sending"]
    with pipeline.api.session() as session:
        [job] = session.scalars(select(Job)).all()
    assert job.payload["message_id"] == waiting["id"] and "IntegrityError" in job.last_error

    pipeline.time_passes()
    pipeline.api.run_worker()

    assert pipeline.message(waiting["id"])["status"] == "sent"
