"""What became of each send, and how it is recorded: in groups, as the sends finish.

A finished send waits for the next database write, not for the rest of its batch: the outcomes
ready when a write starts go into it together, with the end of their jobs (group commit). A
send's slot is freed only once its outcome is committed, so a worker never holds more than
WORKER_CONCURRENCY messages that a provider may have accepted and we have not yet recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import Session, sessionmaker

from clientcontact.channels.base import ChannelAdapter, DeliveryStatus, OutboundMessage, SendResult
from clientcontact.db.scope import unit_of_work
from clientcontact.delivery.status import MESSAGES, advance, publish_status
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import finish, release, retry_later

log = logging.getLogger(__name__)

# A message may be (re)sent from these: `sending` is where a dead worker's message was left.
SENDABLE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)

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
    """Records outcomes as sends finish, as many per transaction as are ready (group commit)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._waiting: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, outcome: Outcome) -> None:
        """Returns once the outcome is committed; raises if its transaction failed."""
        committed = asyncio.get_running_loop().create_future()
        self._waiting.append((outcome, committed))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await committed

    async def _write_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            errors = await asyncio.to_thread(self._commit, [outcome for outcome, _ in group])
            for (_, committed), error in zip(group, errors, strict=True):
                if error is None:
                    committed.set_result(None)
                else:
                    committed.set_exception(error)

    def _commit(self, outcomes: list[Outcome]) -> list[Exception | None]:
        """Each outcome's error, if any. When a group fails, its outcomes are tried one by
        one, so one bad row never leaves the others unrecorded (and sent twice)."""
        try:
            self._commit_group(outcomes)
            return [None] * len(outcomes)
        except Exception as exc:
            if len(outcomes) == 1:
                return [exc]
            log.warning("recording %d outcomes together failed; one at a time", len(outcomes),
                        exc_info=exc)
        return [error for outcome in outcomes for error in self._commit([outcome])]

    def _commit_group(self, outcomes: Sequence[Outcome]) -> None:
        with unit_of_work(self._factory) as session:
            record(session, outcomes)
