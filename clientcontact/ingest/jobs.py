"""The `ingest.handle` job: parse a stored inbound event with its inbox's receiver and apply
each event it holds, in one transaction.

`handled_at` is stamped only when every event applied; otherwise the work is rolled back and
the row keeps the error, visible in the API. Handling retries a few times with backoff (a
media download or a routing race may pass), then stops and leaves the row for
`clientcontact replay-inbound`, which runs `handle_event` again after a fix. Realtime pushes
are published by the services after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import get_scoped, scoped
from clientcontact.delivery.status import apply_status
from clientcontact.errors import BadPayload, ConfigurationError, NotFound
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest import routing
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.store import raw_request
from clientcontact.jobs.models import Job
from clientcontact.jobs.runner import RetryLater, WorkerRuntime, backoff

log = logging.getLogger(__name__)

KIND = "ingest.handle"
MAX_ATTEMPTS = 3  # then the row waits, failed and listed, for replay-inbound
ERROR_LENGTH = 4000


@dataclass(frozen=True)
class Outcome:
    event_id: int
    handled: bool
    attempts: int
    error: str | None = None


def handle_inbound(job: Job, runtime: WorkerRuntime) -> None:
    """Job handler: retry a failed event with backoff until MAX_ATTEMPTS, then stop."""
    outcome = handle_event(runtime, int(job.payload["event_id"]), account_id=job.account_id)
    if not outcome.handled and outcome.attempts < MAX_ATTEMPTS:
        raise RetryLater(outcome.error or "inbound event failed", delay=backoff(outcome.attempts))


def handle_event(runtime: WorkerRuntime, event_id: int, *, account_id: int | None) -> Outcome:
    """Apply one stored event; an event already handled is left alone."""
    try:
        with unit_of_work(runtime.factory) as session:
            row = _row(session, event_id, account_id)
            if row.handled_at is not None:
                return Outcome(row.id, True, row.attempts)
            note = apply_events(session, row, runtime)
            row.handled_at, row.error, row.note = utcnow(), None, storable_text(note)
            row.attempts += 1
            return Outcome(row.id, True, row.attempts)
    except Exception as exc:  # any failure must stay visible on the row, never vanish
        log.log(logging.WARNING if isinstance(exc, BadPayload) else logging.ERROR,
                "inbound event %s failed", event_id, exc_info=exc)
        return _record_failure(runtime, event_id, account_id, f"{type(exc).__name__}: {exc}")


def apply_events(session: Session, row: InboundEventRow, runtime: WorkerRuntime) -> str | None:
    """Parse the row with its inbox's receiver and apply each event; returns what was done."""
    inbox = get_scoped(session, Inbox, row.inbox_id, row.account_id)
    receiver = runtime.adapter(inbox).receivers.get(row.endpoint)
    if receiver is None:
        raise ConfigurationError(f"inbox {inbox.id} no longer takes {row.endpoint} webhooks")
    request = raw_request(row)
    context = Handling(session, inbox, receiver, request, runtime)
    notes = [APPLY[type(event)](context, event) for event in receiver.parse(request)]
    return "; ".join(note for note in notes if note) or None


@dataclass(frozen=True)
class Handling:
    session: Session
    inbox: Inbox
    receiver: Receiver
    request: RawRequest
    runtime: WorkerRuntime


def _route(context: Handling, event: InboundMessage) -> str:
    message = routing.route_message(context.session, context.inbox, event,
                                    settings=context.runtime.settings,
                                    store=context.runtime.store)
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
    """Visits SubscribeURL (re-verified by the receiver); SNS accepts a repeated visit."""
    if not isinstance(context.receiver, SesInbound):
        raise BadPayload("a subscription confirmation reached a receiver that cannot confirm")
    context.receiver.confirm_subscription(context.request)
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


def storable_text(text: str | None) -> str | None:
    """Notes and errors quote payloads; PostgreSQL text takes no NUL, and rows stay short."""
    return text.replace("\x00", "\\x00")[:ERROR_LENGTH] if text is not None else None


def _row(session: Session, event_id: int, account_id: int | None) -> InboundEventRow:
    if account_id is None:  # jobs always carry it; a hand-made job without one is refused
        raise ConfigurationError(f"{KIND} job for event {event_id} has no account")
    return get_scoped(session, InboundEventRow, event_id, account_id)


def _record_failure(runtime: WorkerRuntime, event_id: int, account_id: int | None,
                    error: str) -> Outcome:
    with unit_of_work(runtime.factory) as session:
        try:
            row = _row(session, event_id, account_id)
        except (NotFound, ConfigurationError):
            return Outcome(event_id, False, MAX_ATTEMPTS, error)  # gone: nothing to retry
        row.attempts += 1
        row.error = storable_text(error)
        return Outcome(row.id, False, row.attempts, row.error)
