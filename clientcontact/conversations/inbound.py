"""A customer's message arriving in a conversation: the last step of ingest, and what the demo
seed uses to make realistic threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from clientcontact.contacts.models import Contact
from clientcontact.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageKind,
)
from clientcontact.conversations.service import new_reply_token
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import scoped_update
from clientcontact.inboxes.models import Inbox
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit


@dataclass(frozen=True)
class IncomingContent:
    text: str
    subject: str | None = None
    full_text: str | None = None
    html: str | None = None
    original: bytes | None = None
    external_id: str | None = None
    email_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    received_at: datetime | None = None
    # Out-of-office and other automatic mail is kept, but never reopens a resolved conversation.
    auto_submitted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # Message.extra: flags, cc, to …


def open_conversation(session: Session, inbox: Inbox, contact: Contact, *,
                      subject: str | None, at: datetime | None = None,
                      incoming: bool = False) -> Conversation:
    """A new conversation; one that a customer's message opens (`incoming`) waits for an
    answer from the start, so adding that message writes only the message."""
    at = at or utcnow()
    conversation = Conversation(
        account_id=inbox.account_id, inbox_id=inbox.id, contact_id=contact.id, subject=subject,
        reply_token=new_reply_token(), created_at=at, last_activity_at=at,
        last_inbound_at=at if incoming else None, waiting_since=at if incoming else None)
    session.add(conversation)
    session.flush()
    publish_after_commit(session, RealtimeEvent(inbox.account_id, "conversation.created",
                                                {"conversation_id": conversation.id}))
    return conversation


# Ingest adds every message through here: two Core statements, built once, instead of the unit
# of work (which spent more CPU than both statements take). The conversation is a loaded one of
# the message's account, and the UPDATE names that account too.
_INSERT_MESSAGE = insert(Message.__table__)
_UPDATE_CONVERSATION = scoped_update(Conversation, bindparam("conversation_account_id")).where(
    Conversation.id == bindparam("conversation_id"))


def add_incoming(session: Session, conversation: Conversation, contact: Contact,
                 content: IncomingContent) -> Message:
    """Append the customer's message; a resolved or snoozed conversation comes back open,
    unless the message was sent by a machine (an auto-reply is no reason to work again).
    The message returned is persistent and loaded, and the conversation shows its new values,
    as if both had been flushed."""
    at = content.received_at or utcnow()
    message = _inserted_message(session, dict(
        account_id=conversation.account_id, conversation_id=conversation.id,
        inbox_id=conversation.inbox_id, direction=Direction.IN, kind=MessageKind.MESSAGE,
        author_contact_id=contact.id, subject=content.subject, text=content.text,
        full_text=content.full_text, html=content.html, original=content.original,
        external_id=content.external_id, email_message_id=content.email_message_id,
        in_reply_to=content.in_reply_to, references=" ".join(content.references) or None,
        created_at=at, extra=dict(content.extra),
    ))
    changes: dict[str, Any] = {}
    if conversation.status is not ConversationStatus.OPEN and not content.auto_submitted:
        changes |= {"status": ConversationStatus.OPEN, "snoozed_until": None,
                    "resolved_at": None}
        publish_after_commit(session, RealtimeEvent(conversation.account_id,
                                                    "conversation.updated",
                                                    {"conversation_id": conversation.id}))
    changes |= {"last_activity_at": max(conversation.last_activity_at, at),
                "last_inbound_at": at, "waiting_since": conversation.waiting_since or at}
    _update_conversation(session, conversation, {
        key: value for key, value in changes.items() if getattr(conversation, key) != value})
    publish_after_commit(session, RealtimeEvent(conversation.account_id, "message.created", {
        "conversation_id": conversation.id, "message_id": message.id}))
    return message


def _inserted_message(session: Session, values: dict[str, Any]) -> Message:
    """INSERT the row, then the ORM object it is: every column as written (defaults included,
    the rest NULL), persistent in the session as if loaded. An object left behind by a rolled
    back SAVEPOINT under the same id (SQLite reuses the highest rowid) is stale: it goes."""
    session.flush()  # what the unit of work did first: pending changes reach the row order
    result = session.connection().execute(_INSERT_MESSAGE, values)
    row = {column.key: None for column in Message.__table__.columns}
    row |= result.last_inserted_params()
    row["id"] = result.inserted_primary_key[0]
    stale = session.identity_map.get(session.identity_key(Message, row["id"]))
    if stale is not None:
        session.expunge(stale)
    message = Message(**row)
    make_transient_to_detached(message)
    session.add(message)
    return message


def _update_conversation(session: Session, conversation: Conversation,
                         changes: dict[str, Any]) -> None:
    """Only the columns that change (none: no statement); then the loaded object agrees."""
    if not changes:
        return
    session.connection().execute(_UPDATE_CONVERSATION, {
        "conversation_account_id": conversation.account_id,
        "conversation_id": conversation.id, **changes})
    for key, value in changes.items():
        set_committed_value(conversation, key, value)
