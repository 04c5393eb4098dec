"""Batches of stored webhooks handled by several workers at once (PostgreSQL): senders new to
both workers end as one contact each, a returning sender's messages share one new
conversation, every message is stored once, a deadlock with another transaction ends as a
retry of the one event (not counted as one of its attempts), and a batch whose connection
dies is handled again an event at a time: nothing is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from clientcontact.accounts import service as accounts
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from clientcontact.db.base import utcnow
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import create_inbox
from clientcontact.ingest.handling import handle_stored
from clientcontact.ingest.jobs import handle_inbound
from clientcontact.ingest.models import InboundEventRow
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import claim
from clientcontact.runtime import Runtime, build_runtime
from tests.harness import settings_for_tests
from tests.ingest.test_batches import OUR_NUMBER, store, text_body
from tests.webhooks.providers import TWILIO_SID, TWILIO_TOKEN

LEASE = 300


@pytest.fixture
def runtime(postgres_databases: Callable[[], str], tmp_path: Path) -> Iterator[Runtime]:
    settings = settings_for_tests(database_url=postgres_databases(), data_dir=tmp_path)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    yield runtime
    runtime.engine.dispose()


def sms_inbox(runtime: Runtime) -> int:
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Racing")
        inbox = create_inbox(session, Actor(account_id=account.id), name="SMS",
                             channel=ChannelKind.SMS, provider="twilio", address=OUR_NUMBER,
                             credentials={"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
                             box=runtime.adapters.box)
        session.flush()
        return inbox.id


def claimed(runtime: Runtime, limit: int) -> list[Job]:
    with unit_of_work(runtime.factory) as session:
        return claim(session, limit=limit, lease_seconds=LEASE)


def count(runtime: Runtime, *columns: object) -> int:
    with unit_of_work(runtime.factory) as session:
        return session.scalar(select(func.count(*columns))) or 0


def blocked_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()")))


def test_two_workers_meeting_the_same_new_senders_make_one_contact_each(
        runtime: Runtime) -> None:
    senders = [f"+1415555{n:04d}" for n in range(20)]
    store(runtime, sms_inbox(runtime), [
        text_body(f"SM{round_}{n:04d}", sender, f"Message {round_}")
        for round_ in range(3) for n, sender in enumerate(senders)])
    # Each worker's batch holds messages of every sender, none of whom is a contact yet.
    batches = [claimed(runtime, 30), claimed(runtime, 30)]
    start = threading.Barrier(2)

    def worker(jobs: list[Job]) -> None:
        start.wait()
        handle_inbound(jobs, runtime.runner.runtime)

    threads = [threading.Thread(target=worker, args=(jobs,)) for jobs in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with unit_of_work(runtime.factory) as session:
        rows = list(session.scalars(select(InboundEventRow)))
        assert [(r.attempts, r.error) for r in rows if r.handled_at is None or r.error] == []
        assert all(r.attempts == 1 for r in rows)  # no event needed a second try
        stored = session.execute(select(func.count(), func.count(Message.external_id.distinct()))
                                 .where(Message.direction == Direction.IN)).one()
        assert tuple(stored) == (60, 60)
    assert count(runtime, Contact.id) == count(runtime, ContactIdentity.id) == 20
    assert count(runtime, Conversation.id) == 20
    assert count(runtime, Job.id) == 0


def returning_sender_twice_at_once(runtime: Runtime,
                                   second_waits: Callable[[threading.Thread], None]) -> None:
    """The sender is a contact whose last conversation was resolved long ago: each of two
    messages handled at once would start a new one; the second must wait for the first's."""
    inbox_id = sms_inbox(runtime)
    sender = "+14155550177"
    store(runtime, inbox_id, [text_body("SM1", sender, "Last year's question")])
    runtime.runner.drain()
    with unit_of_work(runtime.factory) as session:
        session.execute(update(Conversation).values(
            status=ConversationStatus.RESOLVED, resolved_at=utcnow() - timedelta(days=90)))
    store(runtime, inbox_id, [text_body("SM2", sender, "Hello again"),
                              text_body("SM3", sender, "It is about my new order")])
    first_job, second_job = claimed(runtime, 10)
    worker = threading.Thread(target=handle_inbound, args=([second_job], runtime.runner.runtime))
    with unit_of_work(runtime.factory) as first:  # the first worker, not committed yet
        handle_stored(first, runtime.runner.runtime,
                      [(first_job.payload["event_id"], first_job.account_id)])
        worker.start()
        second_waits(worker)
    worker.join(30)
    with unit_of_work(runtime.factory) as session:
        threads = session.execute(select(Conversation.id, func.count(Message.id))
                                  .join(Message).group_by(Conversation.id)
                                  .order_by(Conversation.id)).all()
    assert [count for _, count in threads] == [1, 2]  # the old one, and one new for both


def test_two_workers_meeting_a_returning_sender_open_one_conversation(
        runtime: Runtime) -> None:
    def on_the_contact(worker: threading.Thread) -> None:
        deadline = time.monotonic() + 10
        while worker.is_alive() and not blocked_on_a_lock(runtime.engine):
            assert time.monotonic() < deadline, "the second worker neither waited nor ended"
            time.sleep(0.05)

    returning_sender_twice_at_once(runtime, on_the_contact)


def test_on_sqlite_the_second_worker_waits_for_the_write_lock(tmp_path: Path) -> None:
    """SQLite has one writer at a time: the second worker cannot begin before the first
    commits, so it finds the conversation too."""
    runtime = build_runtime(settings_for_tests(
        database_url=f"sqlite:///{tmp_path / 'one-writer.db'}", data_dir=tmp_path))
    upgrade(runtime.engine)

    def for_the_write_lock(worker: threading.Thread) -> None:
        time.sleep(0.5)
        assert worker.is_alive()

    try:
        returning_sender_twice_at_once(runtime, for_the_write_lock)
    finally:
        runtime.engine.dispose()


def test_a_deadlock_with_another_transaction_ends_as_a_retry_of_one_event(
        runtime: Runtime) -> None:
    inbox_id = sms_inbox(runtime)
    first, second = "+14155550101", "+14155550102"
    store(runtime, inbox_id, [text_body("SM1", first, "Hello"), text_body("SM2", second, "Hi")])
    runtime.runner.drain()
    with unit_of_work(runtime.factory) as session:
        conversation_of = {number: conversation_id for number, conversation_id in session.execute(
            select(ContactIdentity.value, Conversation.id)
            .join(Conversation, Conversation.contact_id == ContactIdentity.contact_id))}
    store(runtime, inbox_id, [text_body("SM3", first, "Again"), text_body("SM4", second, "Me")])
    jobs = claimed(runtime, 10)
    worker = threading.Thread(target=handle_inbound, args=(jobs, runtime.runner.runtime))
    with runtime.engine.connect() as agent:  # e.g. an agent's edit, locking in its own order
        agent.execute(text("SET LOCAL deadlock_timeout = '30s'"))  # the worker detects it
        agent.execute(update(Conversation).where(Conversation.id == conversation_of[second])
                      .values(subject="Held"))
        worker.start()  # handles the first sender, then waits for the second's conversation
        deadline = time.monotonic() + 10
        while not blocked_on_a_lock(runtime.engine):
            assert time.monotonic() < deadline, "the worker never waited for the agent"
            time.sleep(0.05)
        agent.execute(update(Conversation).where(Conversation.id == conversation_of[first])
                      .values(subject="Held"))  # waits for the worker: a cycle
        agent.rollback()
    worker.join(30)
    with unit_of_work(runtime.factory) as session:
        rows = {r.external_id: r for r in session.scalars(select(InboundEventRow))}
        assert rows["SM3"].handled_at is not None
        assert rows["SM4"].handled_at is None and "deadlock" in (rows["SM4"].error or "")
        assert rows["SM4"].attempts == 0  # the event was not at fault: the try is not counted
        [job] = session.scalars(select(Job))
        assert job.payload == {"event_id": rows["SM4"].id}
        job.run_after = utcnow() - timedelta(seconds=1)  # its backoff has passed
    runtime.runner.drain()
    with unit_of_work(runtime.factory) as session:
        texts = sorted(session.scalars(select(Message.text)))
    assert texts == ["Again", "Hello", "Hi", "Me"]


def test_a_worker_losing_its_connection_mid_batch_loses_no_event(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    inbox_id = sms_inbox(runtime)
    first, second = "+14155550101", "+14155550102"
    store(runtime, inbox_id, [text_body("SM1", first, "Hello"), text_body("SM2", second, "Hi")])
    runtime.runner.drain()
    with unit_of_work(runtime.factory) as session:
        held = session.scalar(select(Conversation.id).join(
            ContactIdentity, Conversation.contact_id == ContactIdentity.contact_id)
            .where(ContactIdentity.value == second))
    store(runtime, inbox_id, [text_body("SM3", first, "Again"), text_body("SM4", second, "Me")])
    jobs = claimed(runtime, 10)
    worker = threading.Thread(target=handle_inbound, args=(jobs, runtime.runner.runtime))
    with runtime.engine.connect() as agent:
        agent.execute(update(Conversation).where(Conversation.id == held).values(subject="Held"))
        worker.start()  # handles the first sender, then waits for the second's conversation
        deadline = time.monotonic() + 10
        while not blocked_on_a_lock(runtime.engine):
            assert time.monotonic() < deadline, "the worker never waited for the agent"
            time.sleep(0.05)
        agent.execute(text(  # the worker's connection dies, its batch with it
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"))
        agent.rollback()
    worker.join(30)
    assert "handling them one by one" in caplog.text  # on new connections
    with unit_of_work(runtime.factory) as session:
        rows = list(session.scalars(select(InboundEventRow)))
        assert [(r.external_id, r.error) for r in rows if r.handled_at is None] == []
        texts = sorted(session.scalars(select(Message.text)))
    assert texts == ["Again", "Hello", "Hi", "Me"]
    assert count(runtime, Job.id) == 0
