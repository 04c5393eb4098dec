"""What became of each send, and how it is recorded: in groups, as the sends finish.

A finished send waits for the next database write, not for the rest of its batch: the outcomes
ready when a write starts go into it together, with the end of their jobs (group commit), and
a write waits briefly for the sends still in flight (see OutcomeLog). A
send's slot is freed only once its outcome is committed, so a worker never holds more than
WORKER_CONCURRENCY messages that a provider may have accepted and we have not yet recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import Session, sessionmaker

from clientcontact.channels.base import ChannelAdapter, DeliveryStatus, OutboundMessage, SendResult
from clientcontact.db.base import utcnow
from clientcontact.db.failures import is_transient
from clientcontact.db.scope import unit_of_work
from clientcontact.delivery.status import MESSAGES, advance, publish_status
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import finish, release, retry_later

log = logging.getLogger(__name__)

# A message may be (re)sent from these: `sending` is where a dead worker's message was left.
SENDABLE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)

# Pauses between writes of outcomes while the database is unwritable, growing (seconds).
_FIRST_PAUSE, _MAX_PAUSE = 0.05, 2.0

# The provider's ids, one row each, in one round trip (executemany).
_PROVIDER_IDS = (
    update(MESSAGES).where(MESSAGES.c.id == bindparam("b_id"))
    .values(external_id=bindparam("b_external_id"),
            email_message_id=func.coalesce(bindparam("b_email_message_id"),
                                           MESSAGES.c.email_message_id))
)


@dataclass(frozen=True)
class Delivery:
    """One claimed job ready to go: its message is `sending` and built for its adapter."""

    job: Job
    outbound: OutboundMessage
    adapter: ChannelAdapter

    @property
    def message_id(self) -> int:
        return self.outbound.message_id


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    result: SendResult


@dataclass(frozen=True)
class Failed:
    """Refused for good, or given up on: the agent sees the reason and may retry."""

    delivery: Delivery
    code: str | None
    text: str


@dataclass(frozen=True)
class Retry:
    """Worth another try after `delay` seconds; the message waits `queued`."""

    delivery: Delivery
    code: str | None
    text: str
    delay: float


@dataclass(frozen=True)
class Unsent:
    """Not tried: too little of the job's lease was left. Due again at once."""

    delivery: Delivery


Outcome = Sent | Failed | Retry | Unsent


def record(session: Session, outcomes: Sequence[Outcome]) -> None:
    """Every outcome of a group and the end of its jobs, in the caller's one transaction."""
    _record_sent(session, [o for o in outcomes if isinstance(o, Sent)])
    for failed in (o for o in outcomes if isinstance(o, Failed)):
        advance(session, DeliveryStatus.FAILED, [failed.delivery.message_id],
                error_code=failed.code, error_text=failed.text)
    for retry in (o for o in outcomes if isinstance(o, Retry)):
        _queue_again(session, retry)
    release(session, *(o.delivery.job.id for o in outcomes if isinstance(o, Unsent)))
    finish(session, *(o.delivery.job.id for o in outcomes if isinstance(o, Sent | Failed)))


def _record_sent(session: Session, sent: list[Sent]) -> None:
    """The provider's ids always (they name the message in its callbacks); `sent` only where
    that is forward: a fast callback may already have said `delivered` or bounced it."""
    if not sent:
        return
    session.execute(_PROVIDER_IDS, [
        {"b_id": s.delivery.message_id, "b_external_id": s.result.external_id,
         "b_email_message_id": s.result.email_message_id or None} for s in sent])
    advance(session, DeliveryStatus.SENT, [s.delivery.message_id for s in sent],
            error_code=None, error_text=None)


def _queue_again(session: Session, retry: Retry) -> None:
    """Back to `queued` (the one step back a status takes), with the reason visible."""
    moved = session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id == retry.delivery.message_id, MESSAGES.c.status.in_(SENDABLE))
        .values(status=DeliveryStatus.QUEUED, error_code=retry.code,
                error_text=f"retrying: {retry.text}")
        .returning(MESSAGES.c.account_id, MESSAGES.c.conversation_id, MESSAGES.c.error_text)
    ).one_or_none()
    if moved is not None:
        publish_status(session, moved.account_id, moved.conversation_id,
                       retry.delivery.message_id, DeliveryStatus.QUEUED, moved.error_text)
    retry_later(session, retry.delivery.job.id, delay=retry.delay, error=retry.text)


class OutcomeLog:
    """Records outcomes as sends finish, several per transaction (group commit).

    A write first waits for the other sends in flight to end, but no longer than the last
    write took: sends to a provider that answers at once end close together and share a
    commit, while an outcome never waits on a slow send, so the time a message may sit
    accepted but unrecorded grows by one write at most.

    While the database cannot be written (unreachable, restarting), no new send starts: a
    message the provider accepted but we could not record would be sent again. The outcomes
    already in hand are written again, with a growing pause, until the database is back, and
    then the sends resume; an outcome whose job's lease runs out first is given up (the job
    is another worker's to take), and the batch then ends without starting another send.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._waiting: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._sending = 0
        self._all_in = asyncio.Event()  # every send started has its outcome
        self._last_write = 0.0  # seconds
        self._writable = asyncio.Event()  # the last write succeeded: sends may start
        self._writable.set()
        self._given_up = False  # an outcome was lost to an unwritable database
        self._failed_writes = 0  # in a row

    async def attempt(self, send: Callable[[], Awaitable[Outcome]]) -> None:
        """Start a send once outcomes can be recorded, then record its outcome; returns once
        that is committed and raises if it could not be (the send is then not started if the
        database became unwritable while it waited)."""
        await self._writable.wait()
        if self._given_up:
            raise NotStarted("outcomes could not be recorded, so this send was not started")
        self._sending += 1
        self._all_in.clear()
        try:
            outcome = await send()
        finally:
            self._sending -= 1
            if not self._sending:
                self._all_in.set()
        await self._record(outcome)

    async def _record(self, outcome: Outcome) -> None:
        committed = asyncio.get_running_loop().create_future()
        self._waiting.append((outcome, committed))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await committed

    async def _write_waiting(self) -> None:
        while self._waiting:
            if self._writable.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._all_in.wait(), self._last_write)
            group, self._waiting = self._waiting, []
            started = time.monotonic()
            errors = await asyncio.to_thread(self._commit, [outcome for outcome, _ in group])
            self._last_write = time.monotonic() - started
            again = self._settle(group, errors)
            if again:
                self._waiting[:0] = again
                await self._pause(next(e for e in errors if e is not None))
            elif all(error is None for error in errors) and self._failed_writes:
                log.warning("outcomes recorded again after %d failed writes; sending resumes",
                            self._failed_writes)
                self._failed_writes = 0
                self._writable.set()

    async def _pause(self, error: Exception) -> None:
        if not self._failed_writes:
            log.warning("cannot record outcomes, so no new send starts until the database is "
                        "back: %s", error)
        if not self._given_up:
            self._writable.clear()
        self._failed_writes += 1
        await asyncio.sleep(min(_MAX_PAUSE, _FIRST_PAUSE * 2 ** self._failed_writes))

    def _settle(self, group: list[tuple[Outcome, asyncio.Future[None]]],
                errors: list[Exception | None]) -> list[tuple[Outcome, asyncio.Future[None]]]:
        """Tell each waiting send how its write went; returns those to write again."""
        again = []
        for (outcome, committed), error in zip(group, errors, strict=True):
            if error is None:
                committed.set_result(None)
            elif is_transient(error) and _still_leased(outcome):
                again.append((outcome, committed))
            else:
                if is_transient(error):
                    log.error("gave up recording the outcome of message %s: its job's lease "
                              "ran out, so it may be sent again", outcome.delivery.message_id)
                    self._given_up = True  # the database is still away: send nothing more
                    self._writable.set()  # the sends waiting to start end, unstarted
                committed.set_exception(error)
        return again

    def _commit(self, outcomes: list[Outcome]) -> list[Exception | None]:
        """Each outcome's error, if any. When a group fails, its outcomes are tried one by
        one, so one bad row never leaves the others unrecorded (and sent twice); not when
        the database itself failed, which would fail each of them alike."""
        try:
            self._commit_group(outcomes)
            return [None] * len(outcomes)
        except Exception as exc:
            if len(outcomes) == 1 or is_transient(exc):
                return [exc] * len(outcomes)
            log.warning("recording %d outcomes together failed; one at a time", len(outcomes),
                        exc_info=exc)
        return [error for outcome in outcomes for error in self._commit([outcome])]

    def _commit_group(self, outcomes: Sequence[Outcome]) -> None:
        with unit_of_work(self._factory) as session:
            record(session, outcomes)


class NotStarted(Exception):
    """A send held back because the worker could not record outcomes: its job is given back
    untried, or, while the database is still away, claimable again when its lease runs out."""


def _still_leased(outcome: Outcome) -> bool:
    expires = outcome.delivery.job.lease_expires_at
    return expires is not None and expires > utcnow()
