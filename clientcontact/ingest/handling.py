"""Applying stored inbound events: parse each with its inbox's receiver, apply what it holds,
stamp the row. Several rows share one transaction, each inside a SAVEPOINT of its own.

A row whose work fails is rolled back to its SAVEPOINT, alone: its realtime pushes are dropped
with it, and the row keeps its error and counted attempt, while its neighbours are stamped
`handled_at` and commit. Nothing here commits; the ingest job and replay-inbound do.

Lock order (PostgreSQL): rows are applied in the order of what they lock, a message's sender
(their identity, contact and conversation) or the message a status callback names, so two
workers meeting the same new senders wait for each other instead of deadlocking. A deadlock
that happens anyway fails its row, and the row is retried, but the try is not counted against
its attempts: the event is not at fault (`db.failures.is_conflict`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clientcontact.channels.base import (
    Ignored,
    InboundMessage,
    RawRequest,
    Receiver,
    StatusUpdate,
)
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.ses.sns import SubscriptionConfirmation
from clientcontact.conversations.models import Direction, Message
from clientcontact.db.base import utcnow
from clientcontact.db.failures import is_conflict
from clientcontact.db.tenancy import owned, scoped
from clientcontact.delivery.status import apply_status
from clientcontact.errors import BadPayload, ConfigurationError, NotFound
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest import routing
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.prefetch import NotFetched, Prefetched
from clientcontact.ingest.store import raw_request
from clientcontact.jobs.runner import WorkerRuntime

log = logging.getLogger(__name__)

ERROR_LENGTH = 4000
# Deadlock, serialization failure, lock wait timed out (PostgreSQL SQLSTATEs).
Target = tuple[int, int | None]  # (event id, account id): jobs always carry both


@dataclass(frozen=True)
class Outcome:
    event_id: int
    handled: bool
    attempts: int
    error: str | None = None
    note: str | None = None
    gone: bool = False  # no row to try again: deleted, or named by a job without an account


def handle_stored(session: Session, runtime: WorkerRuntime, targets: list[Target],
                  prefetched: Prefetched | None = None) -> dict[int, Outcome]:
    """Apply the targets not handled yet, each in a SAVEPOINT, in lock order, and stamp each
    row with what happened: `handled_at` and a note, or the error. Every target's outcome.
    What the events need from the network was done before (`prefetch`), never in here."""
    outcomes = {event_id: _refused(event_id) for event_id, account_id in targets
                if account_id is None}
    owned_targets = [(e, a) for e, a in targets if a is not None]
    rows = _pending_rows(session, owned_targets)
    outcomes |= _not_pending(session, {e for e, _ in owned_targets} - rows.keys())
    prepared = _prepare(session, list(rows.values()), runtime, prefetched or Prefetched())
    for row, handling in sorted(prepared, key=_lock_order):
        outcomes[row.id] = _apply(session, row, handling)
    now = utcnow()
    for row in rows.values():  # after every SAVEPOINT: a rollback cannot take a stamp back
        outcome = outcomes[row.id]
        if outcome.handled:
            row.handled_at, row.error, row.note = now, None, outcome.note
        else:
            row.error, row.attempts = outcome.error, outcome.attempts
    return outcomes


def _pending_rows(session: Session,
                  targets: list[tuple[int, int]]) -> dict[int, InboundEventRow]:
    """The targets not handled yet, this attempt counted, in one statement; on PostgreSQL it
    makes a concurrent replay of a row wait, then skip."""
    if not targets:
        return {}
    rows = session.scalars(
        update(InboundEventRow)
        .where(owned(InboundEventRow, targets), InboundEventRow.handled_at.is_(None))
        .values(attempts=InboundEventRow.attempts + 1)
        .returning(InboundEventRow), execution_options={"synchronize_session": False})
    return {row.id: row for row in rows}


def _not_pending(session: Session, event_ids: set[int]) -> dict[int, Outcome]:
    """Targets handled already (by a replay, or under an earlier lease) or gone."""
    if not event_ids:
        return {}
    handled = dict(session.execute(
        select(InboundEventRow.id, InboundEventRow.attempts)
        .where(InboundEventRow.id.in_(event_ids))).all())
    return {event_id: Outcome(event_id, True, handled[event_id]) if event_id in handled
            else Outcome(event_id, False, 0, f"inbound event {event_id} is gone", gone=True)
            for event_id in event_ids}


def _refused(event_id: int) -> Outcome:
    error = f"ConfigurationError: ingest job for event {event_id} has no account"
    log.error("inbound event %s: %s", event_id, error)
    return Outcome(event_id, False, 0, error, gone=True)


@dataclass(frozen=True)
class Handling:
    session: Session
    inbox: Inbox
    receiver: Receiver
    request: RawRequest
    runtime: WorkerRuntime
    events: list[Any]  # InboundEvent, or an SNS SubscriptionConfirmation
    stored_before: routing.StoredBefore | None = None
    prefetched: Prefetched = field(default_factory=Prefetched)

    def apply(self) -> str | None:
        """Apply each parsed event; returns what was done."""
        notes = [APPLY[type(event)](self, event) for event in self.events]
        return "; ".join(note for note in notes if note) or None


Prepared = tuple[InboundEventRow, Handling | Exception]


def _prepare(session: Session, rows: list[InboundEventRow], runtime: WorkerRuntime,
             prefetched: Prefetched) -> list[Prepared]:
    """Each row parsed by its inbox's receiver (the inboxes loaded in one query, the receivers
    from the worker's cache), or what prevented that. Parsing never touches the database."""
    idents = {(row.inbox_id, row.account_id) for row in rows}
    inboxes = {inbox.id: inbox for inbox in session.scalars(
        select(Inbox).where(owned(Inbox, idents)))} if idents else {}
    stored_before = routing.StoredBefore()
    prepared = [(row, _parsed(session, row, inboxes.get(row.inbox_id), runtime, stored_before,
                              prefetched)) for row in rows]
    stored_before.find(session, [
        (handling.inbox, event) for _, handling in prepared if isinstance(handling, Handling)
        for event in handling.events if isinstance(event, InboundMessage)])
    return prepared


def _parsed(session: Session, row: InboundEventRow, inbox: Inbox | None,
            runtime: WorkerRuntime, stored_before: routing.StoredBefore,
            prefetched: Prefetched) -> Handling | Exception:
    try:
        if inbox is None:
            raise NotFound(f"inbox {row.inbox_id} not found")
        receiver = runtime.adapter(inbox).receivers.get(row.endpoint)
        if receiver is None:
            raise ConfigurationError(f"inbox {inbox.id} no longer takes {row.endpoint} webhooks")
        request = raw_request(row)
        events = prefetched.events.get(row.id)  # parsed already before the transaction
        return Handling(session, inbox, receiver, request, runtime,
                        receiver.parse(request) if events is None else events,
                        stored_before, prefetched)
    except Exception as exc:
        return exc


def _lock_order(prepared: Prepared) -> tuple[str, int]:
    """A row's first lock key among its events, then its id: one sender's rows keep their
    order of arrival."""
    row, handling = prepared
    keys = [] if isinstance(handling, Exception) else [_lock_key(e) for e in handling.events]
    return min(keys, default=""), row.id


def _lock_key(event: object) -> str:
    if isinstance(event, InboundMessage):
        return event.sender.strip().lower().removeprefix("whatsapp:")
    if isinstance(event, StatusUpdate):
        return event.provider_message_id
    return ""


def _apply(session: Session, row: InboundEventRow, handling: Handling | Exception) -> Outcome:
    try:
        if isinstance(handling, Exception):
            raise handling
        with session.begin_nested():
            note = handling.apply()
    except Exception as exc:  # any failure must stay visible on the row, never vanish
        log_failure(row.id, exc)
        attempts = row.attempts - 1 if is_conflict(exc) else row.attempts
        return Outcome(row.id, False, attempts, storable_text(error_text(exc)))
    return Outcome(row.id, True, row.attempts, note=storable_text(note))


def log_failure(event_id: int, exc: Exception) -> None:
    log.log(logging.WARNING if isinstance(exc, BadPayload) else logging.ERROR,
            "inbound event %s failed", event_id, exc_info=exc)


def error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def storable_text(text: str | None) -> str | None:
    """Notes and errors quote payloads; PostgreSQL text takes no NUL, and rows stay short."""
    return text.replace("\x00", "\\x00")[:ERROR_LENGTH] if text is not None else None


# What each kind of event does -----------------------------------------------------------------

def _route(context: Handling, event: InboundMessage) -> str:
    message = routing.route_message(context.session, context.inbox, event,
                                    settings=context.runtime.settings,
                                    store=context.runtime.store,
                                    stored_before=context.stored_before,
                                    media=context.prefetched.media)
    return f"message {message.id}"


def _status(context: Handling, event: StatusUpdate) -> str:
    """Callbacks about mail or texts sent outside ClientContact are normal: noted, not failed."""
    message = our_message(context.session, context.inbox, event.provider_message_id)
    if message is None:
        return f"no message of ours has provider id {event.provider_message_id}"
    moved = apply_status(context.session, message, event.status, at=event.occurred_at,
                         error_code=event.error_code, error_text=event.error_text)
    return f"message {message.id} {'is now' if moved else 'stays'} {message.status}"


def _confirm(context: Handling, event: SubscriptionConfirmation) -> str:
    """Confirmed before the transaction (`prefetch` visits SubscribeURL); here only what came
    of it is recorded: a failure fails the event, whose retry confirms again."""
    if not isinstance(context.receiver, SesInbound):
        raise BadPayload("a subscription confirmation reached a receiver that cannot confirm")
    confirmations = context.prefetched.confirmations
    if event not in confirmations:
        raise NotFetched(f"SNS subscription to {event.topic_arn} not confirmed yet")
    failure = confirmations[event]
    if failure is not None:
        raise failure
    return f"SNS subscription to {event.topic_arn} confirmed"


def _ignore(context: Handling, event: Ignored) -> str:
    return f"ignored: {event.reason}"


APPLY: dict[type, Callable[[Handling, Any], str]] = {
    InboundMessage: _route,
    StatusUpdate: _status,
    SubscriptionConfirmation: _confirm,
    Ignored: _ignore,
}


def our_message(session: Session, inbox: Inbox, provider_message_id: str) -> Message | None:
    """The outgoing message a provider id belongs to: in this inbox, or in another inbox of the
    account on the same provider (one SendGrid account's Event Webhook, or one SES
    configuration set, reports on every inbox that sends through it).

    Locked until the commit: callbacks about one message are handled concurrently by workers,
    and each must see the status the one before it left, or a status could move backwards."""
    siblings = scoped(Inbox, inbox.account_id, Inbox.id).where(Inbox.provider == inbox.provider)
    return session.scalars(
        scoped(Message, inbox.account_id)
        .where(Message.external_id == provider_message_id, Message.direction == Direction.OUT,
               Message.inbox_id.in_(siblings))
        .order_by(Message.inbox_id != inbox.id, Message.id).limit(1)
        .with_for_update(of=Message)).first()
