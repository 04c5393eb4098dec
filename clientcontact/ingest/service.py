"""Reading inbound events back: which failed, and which to replay after a fix."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from clientcontact.db.tenancy import Actor, scoped
from clientcontact.ingest.models import InboundEventRow


class EventState(enum.StrEnum):
    FAILED = "failed"  # tried and not handled: shows its error, waits for replay-inbound
    PENDING = "pending"  # not tried yet
    HANDLED = "handled"


STATE_FILTERS: dict[EventState, ColumnElement[bool]] = {
    EventState.FAILED: InboundEventRow.handled_at.is_(None) & InboundEventRow.error.is_not(None),
    EventState.PENDING: InboundEventRow.handled_at.is_(None) & InboundEventRow.error.is_(None),
    EventState.HANDLED: InboundEventRow.handled_at.is_not(None),
}


def list_events(session: Session, actor: Actor, state: EventState, *, limit: int = 50,
                before_id: int | None = None) -> list[InboundEventRow]:
    """This account's events in that state, newest first."""
    stmt: Any = scoped(InboundEventRow, actor.account_id).where(STATE_FILTERS[state])
    if before_id is not None:
        stmt = stmt.where(InboundEventRow.id < before_id)
    return list(session.scalars(stmt.order_by(InboundEventRow.id.desc()).limit(limit)))


def failed_event_ids(session: Session) -> list[tuple[int, int]]:
    """(event id, account id) of every failed event in every account, oldest first: the
    operator's view for `replay-inbound --all-failed`, deliberately not scoped."""
    rows = session.execute(select(InboundEventRow.id, InboundEventRow.account_id)
                           .where(STATE_FILTERS[EventState.FAILED])
                           .order_by(InboundEventRow.id))
    return [(event_id, account_id) for event_id, account_id in rows]


def event_account(session: Session, event_id: int) -> int | None:
    """The account an event belongs to (operator lookup for `replay-inbound --id`)."""
    return session.scalar(select(InboundEventRow.account_id)
                          .where(InboundEventRow.id == event_id))
