"""Delivery status moves only forward, whatever order providers' callbacks arrive in."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from clientcontact.channels.base import STATUS_ORDER, DeliveryStatus
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

MESSAGES = Message.__table__  # plain Core statements where a worker writes many rows at once
_STAMP = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


def is_forward(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """A failure after sent is news (a bounce); one after delivered or read is not."""
    if current is None:
        return True
    if new is DeliveryStatus.FAILED:
        return current in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT)
    if current is DeliveryStatus.FAILED:
        # A delivery receipt proves a late "failed" wrong (carriers do send them out of order).
        return new in (DeliveryStatus.DELIVERED, DeliveryStatus.READ)
    return STATUS_ORDER[new] > STATUS_ORDER[current]


def apply_status(session: Session, message: Message, new: DeliveryStatus, *,
                 at: datetime | None = None, error_code: str | None = None,
                 error_text: str | None = None) -> bool:
    """Move the message to `new` if that is forward; returns whether anything changed."""
    if not is_forward(message.status, new):
        return False
    message.status = new
    if new in _STAMP:
        setattr(message, _STAMP[new], at or utcnow())
    if new is DeliveryStatus.FAILED:
        message.error_code, message.error_text = error_code, error_text
    elif new in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
        message.error_code = message.error_text = None
    session.flush()
    publish_status(session, message.account_id, message.conversation_id, message.id,
                   new, message.error_text)
    return True


def forward_from(new: DeliveryStatus) -> tuple[DeliveryStatus, ...]:
    """Every status `new` is forward from, for conditions written in SQL."""
    return tuple(current for current in DeliveryStatus if is_forward(current, new))


def advance(session: Session, new: DeliveryStatus, message_ids: Collection[int], *,
            at: datetime | None = None, **values: Any) -> list[int]:
    """`apply_status` for many outbound messages in one statement: each moves to `new` (with
    `values`) only if that is forward for it, checked by the database at the moment of writing.
    Returns the ids that moved."""
    if not message_ids:
        return []
    values = {**values, "status": new}
    if new in _STAMP:
        values[_STAMP[new]] = at or utcnow()
    moved = session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(message_ids), MESSAGES.c.status.in_(forward_from(new)))
        .values(values)
        .returning(MESSAGES.c.account_id, MESSAGES.c.conversation_id, MESSAGES.c.id,
                   MESSAGES.c.error_text)
    ).all()
    for account_id, conversation_id, message_id, error_text in moved:
        publish_status(session, account_id, conversation_id, message_id, new, error_text)
    return [row.id for row in moved]


def publish_status(session: Session, account_id: int, conversation_id: int, message_id: int,
                   status: DeliveryStatus, error_text: str | None) -> None:
    """Agents' screens show the new status once the change is committed."""
    publish_after_commit(session, RealtimeEvent(account_id, "message.status", {
        "conversation_id": conversation_id, "message_id": message_id,
        "status": status.value, "error_text": error_text}))
