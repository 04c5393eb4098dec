"""Delivery status reports (RFC 3464) about our own mail.

A bounce is news about a message we sent, not something the customer said: when it names one
of our outgoing messages (by the Message-ID quoted back in the report), that message becomes
`failed` with the server's diagnostic, and no customer message is shown. A report that names
none of ours is kept as an ordinary, auto-submitted incoming message, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientcontact.channels.base import DeliveryStatus
from clientcontact.channels.email_bounces import BounceInfo
from clientcontact.conversations.models import Direction, Message
from clientcontact.db.tenancy import scoped
from clientcontact.delivery.status import apply_status
from clientcontact.inboxes.models import Inbox

ERROR_CODE_LENGTH = 60  # Message.error_code


def reported_message(session: Session, inbox: Inbox, bounce: BounceInfo) -> Message | None:
    """Our outgoing message in this inbox that the report is about, if it names one."""
    if not bounce.original_message_id:
        return None
    return session.scalars(
        scoped(Message, inbox.account_id)
        .where(Message.inbox_id == inbox.id, Message.direction == Direction.OUT,
               Message.email_message_id == bounce.original_message_id)
        .order_by(Message.id).limit(1)).first()


def apply_bounce(session: Session, message: Message, bounce: BounceInfo) -> None:
    """A permanent failure fails the message; a "delayed" notice changes nothing yet."""
    if bounce.permanent:
        apply_status(session, message, DeliveryStatus.FAILED,
                     error_code=(bounce.status or "bounced")[:ERROR_CODE_LENGTH],
                     error_text=diagnostic_text(bounce))


def diagnostic_text(bounce: BounceInfo) -> str:
    """What the receiving server said, for the agent: its diagnostic, else who and what."""
    if bounce.diagnostic_code:
        return bounce.diagnostic_code
    who = bounce.final_recipient or "the recipient"
    return f"Delivery to {who} failed ({bounce.status or bounce.action or 'bounced'})"


def bounce_summary(bounce: BounceInfo) -> dict[str, Any]:
    """The report's facts, kept on an unmatched bounce so an agent can still act on it."""
    return {
        "original_message_id": bounce.original_message_id,
        "final_recipient": bounce.final_recipient,
        "action": bounce.action,
        "status": bounce.status,
        "diagnostic": bounce.diagnostic_code,
    }
