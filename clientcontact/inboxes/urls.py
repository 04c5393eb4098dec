"""The URLs a provider is told to call for an inbox; built from PUBLIC_URL so they are right
behind a proxy (Twilio signs the exact URL it called)."""

from __future__ import annotations

from clientcontact.inboxes.models import Inbox
from clientcontact.settings import Settings


def inbound_url(settings: Settings, inbox: Inbox) -> str:
    return f"{settings.public_url}/api/webhooks/inboxes/{inbox.public_key}/inbound"


def status_callback_url(settings: Settings, inbox: Inbox) -> str:
    return f"{settings.public_url}/api/webhooks/inboxes/{inbox.public_key}/status"


def reply_address(settings: Settings, reply_token: str) -> str:
    """Per-conversation Reply-To: the customer's answer finds its conversation by this token."""
    return f"reply+{reply_token}@{settings.reply_domain}"
