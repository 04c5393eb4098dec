"""What an outgoing email needs to land in the customer's existing thread."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientcontact.channels.email_build import reply_subject
from clientcontact.conversations.models import Conversation, Direction, Message, MessageKind


@dataclass(frozen=True)
class ThreadHeaders:
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4()}@{domain}>"


def thread_headers(session: Session, conversation: Conversation) -> ThreadHeaders:
    """In-Reply-To the latest mail of the thread; References carry its ancestors and it."""
    latest = session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.kind == MessageKind.MESSAGE,
               Message.email_message_id.is_not(None))
        .order_by(Message.id.desc()).limit(1))
    latest_in = session.scalar(
        select(Message.subject)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.IN,
               Message.subject.is_not(None))
        .order_by(Message.id.desc()).limit(1))
    subject = reply_subject(latest_in or conversation.subject)
    if latest is None:
        return ThreadHeaders(subject if latest_in else (conversation.subject or subject), None, ())
    ancestors = (latest.references or "").split()
    ordered = tuple(r for r in dict.fromkeys([*ancestors, latest.email_message_id]) if r)
    return ThreadHeaders(subject, latest.email_message_id, ordered)
