"""WhatsApp's 24-hour customer service window, checked before a reply is queued.

WhatsApp accepts free-form messages only within 24 hours of the customer's last message; outside
it only an approved template goes through. Twilio would refuse with error 63016 after a round
trip and a failed message; refusing at the API tells the agent at once, and what to do instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clientcontact.channels.base import ChannelKind, WhatsAppTemplate
from clientcontact.conversations.models import Conversation
from clientcontact.db.base import utcnow
from clientcontact.errors import Unprocessable

WINDOW = timedelta(hours=24)


def window_closes_at(conversation: Conversation) -> datetime | None:
    """When free-form replies stop being allowed (possibly in the past); None when the channel
    has no window or the customer has never written."""
    if conversation.inbox.channel is not ChannelKind.WHATSAPP:
        return None
    if conversation.last_inbound_at is None:
        return None
    return conversation.last_inbound_at + WINDOW


def window_is_open(conversation: Conversation, now: datetime | None = None) -> bool | None:
    """None for channels without a window."""
    if conversation.inbox.channel is not ChannelKind.WHATSAPP:
        return None
    closes = window_closes_at(conversation)
    return closes is not None and (now or utcnow()) < closes


def check_reply_allowed(conversation: Conversation, template: WhatsAppTemplate | None,
                        now: datetime | None = None) -> None:
    """Raise Unprocessable for a free-form WhatsApp reply outside the window, or a template on
    a channel that has none."""
    if conversation.inbox.channel is not ChannelKind.WHATSAPP:
        if template is not None:
            raise Unprocessable("templates can only be sent on WhatsApp conversations")
        return
    if template is not None or window_is_open(conversation, now):
        return
    closes = window_closes_at(conversation)
    why = (f"the WhatsApp 24-hour window closed at {closes:%Y-%m-%d %H:%M} UTC"
           if closes else "the customer has not written on WhatsApp yet, so no window is open")
    raise Unprocessable(
        f"{why}: send an approved template (content_sid and variables) instead of a free-form "
        "message", details={"window_closed_at": closes.isoformat() if closes else None})
