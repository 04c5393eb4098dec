"""Stored webhooks are handled a batch to a transaction: what agents see must not change.

One event that cannot be handled fails alone (its error on its row, its job retried), its
half-done work rolled back and never shown; the others land in their conversations, and
agents' screens hear of them only once they are committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import Engine, func, select

from clientcontact.channels.base import RawRequest
from clientcontact.contacts.models import ContactIdentity
from clientcontact.conversations.models import Conversation, Message
from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.jobs import KIND
from clientcontact.ingest.store import RawEvent, store_raw_many
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import enqueue_many
from clientcontact.realtime.bus import RealtimeEvent
from clientcontact.runtime import Runtime, build_runtime
from tests.harness import Api
from tests.signing import twilio_signature
from tests.webhooks.providers import TWILIO_SID, events, incoming, post, twilio_inbox
from tests.webhooks.test_twilio import FakeTwilioMedia

OUR_NUMBER = "+15005550006"
MEDIA_URL = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/{sid}/Media/"
             "ME5b2a8c1d3e4f5a6b7c8d9e0f1a2b3c4d")


def text_body(sid: str, sender: str, text: str, *, with_photo: bool = False) -> bytes:
    """A Twilio SMS webhook's form; with a photo, Twilio's media URL for it (an MMS)."""
    form = {"MessageSid": sid, "SmsSid": sid, "SmsStatus": "received", "AccountSid": TWILIO_SID,
            "From": sender, "To": OUR_NUMBER, "Body": text, "NumMedia": "0"}
    if with_photo:
        form |= {"NumMedia": "1", "MediaContentType0": "image/jpeg",
                 "MediaUrl0": MEDIA_URL.format(sid=sid)}
    return urlencode(form).encode()


def send(api: Api, path: str, body: bytes) -> None:
    signature = twilio_signature(api.settings.public_url + path, body)
    response = post(api, path, body, {"content-type": "application/x-www-form-urlencoded",
                                      "x-twilio-signature": signature})
    assert response.status_code == 200


def store(runtime: Runtime, inbox_id: int, bodies: list[bytes],
          keys: list[str] | None = None) -> None:
    """Store webhooks as the intake does, raw with one job each, under their MessageSid or
    the keys given (as if they had come through different webhooks)."""
    keys = keys or [dict(parse_qsl(body.decode()))["MessageSid"] for body in bodies]
    with unit_of_work(runtime.factory) as session:
        inbox = session.get_one(Inbox, inbox_id)
        stored = store_raw_many(session, [
            RawEvent(inbox, "inbound", key, RawRequest("POST", runtime.settings.public_url, {},
                                                       body))
            for key, body in zip(keys, bodies, strict=True)])
        enqueue_many(session, KIND, [({"event_id": event_id}, account_id)
                                     for event_id, account_id in stored])


@pytest.fixture
def media(loopback_only: None) -> Iterator[FakeTwilioMedia]:
    """Twilio's media URLs on loopback (the webhook stories' fake)."""
    fake = FakeTwilioMedia().start()
    yield fake
    fake.stop()


def identities(api: Api, number: str) -> int:
    with api.session() as session:
        return session.scalar(select(func.count()).select_from(ContactIdentity)
                              .where(ContactIdentity.value == number)) or 0


@contextmanager
def refusing_messages(api: Api, text: str) -> Iterator[Callable[[], None]]:
    """The database refuses to store a message saying `text` (a trigger, standing in for a
    bug), so its event fails after its contact and conversation were written. Yields the fix."""
    engine = api.server.runtime.engine
    if engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.text = '{text}' "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        drop = ["DROP TRIGGER IF EXISTS refuse"]
    else:
        create = [f"CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  f"IF NEW.text = '{text}' THEN RAISE EXCEPTION 'refused'; END IF; "
                  "RETURN NEW; END $$",
                  "CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW "
                  "EXECUTE FUNCTION refuse()"]
        drop = ["DROP TRIGGER IF EXISTS refuse ON messages", "DROP FUNCTION IF EXISTS refuse()"]

    def fix() -> None:
        with engine.begin() as connection:
            for statement in drop:
                connection.exec_driver_sql(statement)

    with engine.begin() as connection:
        for statement in create:
            connection.exec_driver_sql(statement)
    try:
        yield fix
    finally:
        fix()


def test_one_broken_event_fails_alone_and_the_others_land_in_their_conversations(
        api: Api) -> None:
    sms = twilio_inbox(api)
    with refusing_messages(api, "The box is broken") as fix:
        send(api, sms.inbound_path, text_body("SM0001", "+14155550101", "Where is my order?"))
        send(api, sms.inbound_path, text_body("SM0002", "+14155550102", "The box is broken"))
        send(api, sms.inbound_path, text_body("SM0003", "+14155550103",
                                              "Can I change my address?"))
        send(api, sms.inbound_path, text_body("SM0004", "+14155550101", "Order #1042"))
        api.run_worker()

        by_id = {event.external_id: event for event in events(api)}
        broken = by_id.pop("SM0002")
        assert broken.handled_at is None and broken.attempts == 1
        assert "refused" in (broken.error or "")
        assert all(e.handled_at is not None and e.error is None for e in by_id.values())
        # The broken event's new contact and conversation were rolled back with it.
        assert identities(api, "+14155550102") == 0
        texts = {(m.author_contact_id, m.text) for m in incoming(api)}
        assert {text for _, text in texts} == {"Where is my order?", "Can I change my address?",
                                               "Order #1042"}
        with api.session() as session:
            assert session.scalar(select(func.count()).select_from(Conversation)) == 2
            [job] = session.scalars(select(Job))
            assert job.payload == {"event_id": broken.id} and job.run_after > utcnow()
        fix()

    with api.session() as session:  # the retry comes due, after the fix
        job = session.scalars(select(Job)).one()
        job.run_after = utcnow() - timedelta(seconds=1)
    api.run_worker()
    [retried] = [e for e in events(api) if e.external_id == "SM0002"]
    assert retried.handled_at is not None and retried.attempts == 2
    assert "The box is broken" in [m.text for m in incoming(api)]


class Watching:
    """An event bus that notes, as each event is published, whether what it names is already
    committed (read over a connection of its own)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.published: list[tuple[str, bool]] = []

    def publish(self, event: RealtimeEvent) -> None:
        assert self.engine is not None
        model, key = ((Message, "message_id") if event.type == "message.created"
                      else (Conversation, "conversation_id"))
        with self.engine.connect() as connection:
            committed = connection.scalar(select(func.count()).select_from(model)
                                          .where(model.id == event.data[key])) == 1
        self.published.append((event.type, committed))

    def subscribe(self, account_id: int) -> object:
        raise NotImplementedError


def test_a_batch_is_published_to_agents_only_after_its_commit(api: Api) -> None:
    sms = twilio_inbox(api)
    send(api, sms.inbound_path, text_body("SM0011", "+14155550111", "First"))
    send(api, sms.inbound_path, text_body("SM0012", "+14155550112", "Broken"))
    send(api, sms.inbound_path, text_body("SM0013", "+14155550113", "Third"))
    bus = Watching()
    worker = build_runtime(api.settings, bus=bus)  # a worker process beside the web server
    bus.engine = worker.engine
    try:
        with refusing_messages(api, "Broken"):
            worker.runner.drain()
    finally:
        worker.engine.dispose()
    # Two new conversations and their messages, each seen committed; nothing of the broken
    # event's rolled-back conversation, although it had been created before its message failed.
    assert sorted(bus.published) == [("conversation.created", True)] * 2 + [
        ("message.created", True)] * 2


def test_one_message_arriving_twice_in_one_batch_is_stored_once(api: Api) -> None:
    sms = twilio_inbox(api)
    body = text_body("SM0021", "+14155550121", "Is anyone there?")
    store(api.server.runtime, sms.id, [body, body], keys=["SM0021", "SM0021-forwarded"])
    api.run_worker()
    [message] = incoming(api)
    assert message.text == "Is anyone there?"
    assert [(e.handled_at is not None, e.note) for e in events(api)] == [
        (True, f"message {message.id}")] * 2
