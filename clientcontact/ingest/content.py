"""What an agent sees of an inbound message: visible reply, full text, safe HTML, files.

The visible text is the reply without the quoted history and signature (`trim_reply`);
`full_text` keeps everything decoded, and `original` the raw bytes, so nothing is lost if the
trimmer guesses wrong. HTML is only ever stored sanitized, remote images blocked. Attachments go
to the file store up to `max_attachment_bytes`; larger ones are recorded on the message (name,
type, reason) but not kept. Inline `cid:` images are stored as inline attachments so the UI can
serve them where the HTML shows them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, InboundAttachment, InboundMessage
from clientcontact.content.reply_trimmer import trim_reply
from clientcontact.content.sanitize import sanitize_html
from clientcontact.conversations.inbound import IncomingContent
from clientcontact.conversations.models import Attachment, Message
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.media import fetch_media
from clientcontact.settings import Settings

# Column widths of the rows we write; mail headers are written by strangers.
LONG_HEADER = 998
NAME_LENGTH = 255
EXTERNAL_ID_LENGTH = 255


def visible_email_text(text: str) -> str:
    """The reply without quotes and signature; the whole text when nothing would be left (a
    forward, or a reply that only quotes), so the agent never sees an empty bubble."""
    return trim_reply(text).visible.strip() or text.strip()


VISIBLE_TEXT: dict[ChannelKind, Callable[[str], str]] = {
    ChannelKind.EMAIL: visible_email_text,
    ChannelKind.SMS: str,
    ChannelKind.WHATSAPP: str,
}


def external_id(event: InboundMessage) -> str:
    """The idempotency key as stored: a provider id, or a digest of one too long for the row."""
    if len(event.external_id) <= EXTERNAL_ID_LENGTH:
        return event.external_id
    return "sha256:" + hashlib.sha256(event.external_id.encode()).hexdigest()


@dataclass(frozen=True)
class Content:
    incoming: IncomingContent
    extra: dict[str, Any] = field(default_factory=dict)


def incoming_content(event: InboundMessage) -> Content:
    safe = sanitize_html(_text(event.html)) if event.html else None
    incoming = IncomingContent(
        text=VISIBLE_TEXT[event.channel](_text(event.text) or ""),
        full_text=_text(event.text),
        subject=_clip(_text(event.subject), LONG_HEADER),
        html=safe.html if safe else None,
        original=event.original,
        external_id=external_id(event),
        email_message_id=_clip(event.email_message_id, LONG_HEADER),
        in_reply_to=_clip(event.in_reply_to, LONG_HEADER),
        references=event.references,
        auto_submitted=event.auto_submitted,
    )
    return Content(incoming, {"blocked_images": safe.blocked_images} if safe and
                   safe.blocked_images else {})


def store_attachments(session: Session, message: Message, inbox: Inbox,
                      attachments: tuple[InboundAttachment, ...], *, settings: Settings,
                      store: LocalFileStore) -> dict[str, Any]:
    """Keep what fits; returns what the message should say about the rest."""
    dropped: list[dict[str, Any]] = []
    links: list[str] = []
    for item in attachments:
        data = item.data if item.data is not None else _fetched(inbox, item, settings)
        if data is None and item.url:
            links.append(item.url)
        elif data is None or len(data) > settings.max_attachment_bytes:
            dropped.append({"filename": item.filename, "content_type": item.content_type,
                            "size": None if data is None else len(data), "reason": "too_large"})
        else:
            session.add(Attachment(
                account_id=message.account_id, message_id=message.id,
                filename=_clip(item.filename, NAME_LENGTH) or "attachment",
                content_type=_clip(item.content_type, NAME_LENGTH) or "application/octet-stream",
                size=len(data), storage_key=store.put(message.account_id, data),
                content_id=_clip(item.content_id, NAME_LENGTH), inline=item.inline))
    session.flush()
    summary: dict[str, Any] = {}
    if dropped:
        summary["dropped_attachments"] = dropped
    if links:
        summary["media_urls"] = links
    return summary


def _fetched(inbox: Inbox, item: InboundAttachment, settings: Settings) -> bytes | None:
    return fetch_media(inbox, item, settings=settings) if item.url else None


def _text(value: str | None) -> str | None:
    """Text as a database keeps it: PostgreSQL refuses NUL, which a stranger's payload may hold."""
    return value.replace("\x00", "") if value else value


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else value
