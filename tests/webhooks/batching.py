"""Webhooks that reach the intake's writer as one batch, and genuine ones to send with them.

The writer takes every webhook waiting when it starts a batch. To make several arrive
together for certain, a first webhook is sent while another connection holds the database's
write lock: the writer waits at that webhook's INSERT while the others queue up behind it,
and once the lock is released they are written together as the next batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from sqlalchemy import Engine, text

from tests.harness import Api
from tests.ingest.test_batches import text_body
from tests.signing import twilio_signature
from tests.webhooks.providers import ProviderInbox, post

QUEUE_SECONDS = 0.5  # ample for a loopback request to be read and queued for the writer
FALLBACK = "writing them one at a time"  # what the writer logs when a batch fails


def genuine_sms(api: Api, inbox: ProviderInbox, sid: str) -> httpx.Response:
    """A customer's SMS as Twilio posts it to the inbox's own URL, correctly signed."""
    body = text_body(sid, "+14155550101", f"Hello ({sid})")
    return post(api, inbox.inbound_path, body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio_signature(api.settings.public_url + inbox.inbound_path,
                                               body)})


def sent_together(api: Api, inbox: ProviderInbox,
                  posts: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Each post's answer, all of them sent while the writer was busy, so that whatever of
    them reaches the writer is written as one batch (after a first genuine SMS, `SMfirst`)."""
    engine = api.server.runtime.engine
    with ThreadPoolExecutor(len(posts) + 1) as pool:
        with _writes_held(engine):
            first = pool.submit(genuine_sms, api, inbox, "SMfirst")
            _wait_until_the_writer_waits(engine)
            answers = [pool.submit(send) for send in posts]
            time.sleep(QUEUE_SECONDS)
        assert first.result().status_code == 200
        return [answer.result() for answer in answers]


@contextmanager
def _writes_held(engine: Engine) -> Iterator[None]:
    with engine.connect() as holder:
        if engine.dialect.name == "postgresql":
            holder.execute(text("LOCK TABLE inbound_events IN SHARE MODE"))
        else:  # SQLite has one write lock for the whole database
            holder.execute(text("UPDATE accounts SET name = name"))
        try:
            yield
        finally:
            holder.rollback()


def _wait_until_the_writer_waits(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":  # SQLite cannot tell who waits for its lock
        time.sleep(2 * QUEUE_SECONDS)
        return
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while not connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()")):
            assert time.monotonic() < deadline, "the writer never waited for the lock"
            time.sleep(0.02)
            connection.rollback()
