"""What an agent sees of an inbound message: visible reply, full text, safe HTML, files.

The visible text is the reply without the quoted history and signature (`trim_reply`);
`full_text` keeps everything decoded, and `original` the raw bytes, so nothing is lost if the
trimmer guesses wrong. HTML is only ever stored sanitized, remote images blocked. Attachments go
to the file store up to `max_attachment_bytes`; larger ones are recorded on the message (name,
type, reason) but not kept, and provider-hosted files not fetched yet are listed as missing
while a job retries them (`ingest.media_retry`). Inline `cid:` images are stored as inline
attachments so the UI can serve them where the HTML shows them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, InboundAttachment, InboundMessage
from clientcontact.content.reply_trimmer import trim_reply
from clientcontact.content.sanitize import sanitize_html
from clientcontact.conversations.inbound import IncomingContent
from clientcontact.conversations.models import Message
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest import media_retry
from clientcontact.ingest.media import FETCHERS, MediaMissing, MediaResult, StoredMedia
from clientcontact.ingest.media_retry import attachment
from clientcontact.settings import Settings

# Column widths of the rows we write; mail headers are written by strangers.
LONG_HEADER = 998
EXTERNAL_ID_LENGTH = 255
NOT_FETCHED = MediaMissing("not fetched yet")


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
                      store: LocalFileStore, media: Mapping[str, MediaResult]) -> dict[str, Any]:
    """Keep what fits; returns what the message should say about the rest. Files a provider
    hosts are never fetched here, in the transaction: `media` holds what was fetched before
    (`ingest.prefetch`), and what is not there yet is listed missing and retried by a job."""
    dropped: list[dict[str, Any]] = []
    links: list[str] = []
    waiting: list[dict[str, Any]] = []
    for item in attachments:
        if item.data is None and item.url:
            fetched = (media.get(item.url, NOT_FETCHED) if inbox.provider in FETCHERS
                       else None)
            if isinstance(fetched, StoredMedia):
                session.add(attachment(message, item.filename, item.content_type,
                                       storage_key=fetched.storage_key, size=fetched.size))
            elif fetched is None:
                links.append(item.url)
            else:
                waiting.append(media_retry.missing(item, fetched))
        elif item.data is None or len(item.data) > settings.max_attachment_bytes:
            dropped.append({"filename": item.filename, "content_type": item.content_type,
                            "size": None if item.data is None else len(item.data),
                            "reason": "too_large"})
        else:
            session.add(attachment(message, item.filename, item.content_type,
                                   storage_key=store.put(message.account_id, item.data),
                                   size=len(item.data), content_id=item.content_id,
                                   inline=item.inline))
    session.flush()
    if waiting:
        media_retry.retry_later(session, message)
    summary: dict[str, Any] = {}
    if dropped:
        summary["dropped_attachments"] = dropped
    if links:
        summary["media_urls"] = links
    if waiting:
        summary[media_retry.MISSING] = waiting
    return summary


def _text(value: str | None) -> str | None:
    """Text as a database keeps it: PostgreSQL refuses NUL, which a stranger's payload may hold."""
    return value.replace("\x00", "") if value else value


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else value
