"""Delivery status moves only forward, whatever order providers' callbacks arrive in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from clientcontact.channels.base import STATUS_ORDER, DeliveryStatus
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

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
    publish_after_commit(session, RealtimeEvent(message.account_id, "message.status", {
        "conversation_id": message.conversation_id, "message_id": message.id,
        "status": new.value, "error_text": message.error_text}))
    return True
