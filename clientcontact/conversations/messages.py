"""Reading a conversation's thread."""

from __future__ import annotations

from sqlalchemy.orm import Session, selectinload

from clientcontact.conversations.models import Attachment, Message
from clientcontact.conversations.service import get_conversation
from clientcontact.db.tenancy import Actor, get_scoped, scoped


def list_messages(session: Session, actor: Actor, conversation_id: int, *,
                  after_id: int | None = None, limit: int = 100) -> list[Message]:
    """Oldest first, as a thread is read; page forward with the last id seen."""
    conversation = get_conversation(session, actor, conversation_id)
    stmt = (scoped(Message, actor.account_id)
            .where(Message.conversation_id == conversation.id)
            .options(selectinload(Message.attachments))
            .order_by(Message.id).limit(limit))
    if after_id is not None:
        stmt = stmt.where(Message.id > after_id)
    return list(session.scalars(stmt))


def get_message(session: Session, actor: Actor, message_id: int) -> Message:
    return get_scoped(session, Message, message_id, actor.account_id,
                      selectinload(Message.attachments))


def get_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    return get_scoped(session, Attachment, attachment_id, actor.account_id)
