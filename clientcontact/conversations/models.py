"""Conversations, their messages (replies, notes, activity lines), attachments and tags."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clientcontact.accounts.models import Agent, Team
from clientcontact.channels.base import DeliveryStatus
from clientcontact.contacts.models import Contact
from clientcontact.db.base import Base, BigId, IdPk, str_enum, utcnow
from clientcontact.inboxes.models import Inbox


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(enum.StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageKind(enum.StrEnum):
    MESSAGE = "message"
    NOTE = "note"  # internal: never sent to the contact
    ACTIVITY = "activity"  # "Alice assigned this to Bob"


conversation_tags = Table(
    "conversation_tags",
    Base.metadata,
    Column("conversation_id", BigId, ForeignKey("conversations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag_id", BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    color: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # The inbox list: newest activity first within an account, paged by (time, id).
        Index("ix_conversations_account_activity", "account_id", "last_activity_at", "id"),
        Index("ix_conversations_contact_inbox", "contact_id", "inbox_id"),
        # The counts beside the inbox views (Mine / Unassigned / All, by status).
        Index("ix_conversations_account_status_assignee", "account_id", "status", "assignee_id"),
    )

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.OPEN)
    snoozed_until: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.NONE)
    subject: Mapped[str | None] = mapped_column(String(998))
    # Routes a customer's email answer back here: reply+<token>@<inbound domain>.
    reply_token: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_reply_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None]  # opens the WhatsApp 24-hour window
    waiting_since: Mapped[datetime | None]  # the customer's oldest unanswered message
    resolved_at: Mapped[datetime | None]

    inbox: Mapped[Inbox] = relationship(lazy="raise")
    contact: Mapped[Contact] = relationship(lazy="raise")
    assignee: Mapped[Agent | None] = relationship(lazy="raise")
    team: Mapped[Team | None] = relationship(lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary=conversation_tags, lazy="raise",
                                           order_by=Tag.name)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A provider retry carries the same id: the second copy is a no-op.
        UniqueConstraint("inbox_id", "external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_email_message_id", "inbox_id", "email_message_id"),
        # Channel status reads an inbox's queue, its recent failures and its last send
        # through these, never the whole history of what it sent.
        Index("ix_messages_inbox_status", "inbox_id", "status", "created_at"),
        Index("ix_messages_inbox_failed", "inbox_id", "failed_at"),
        Index("ix_messages_inbox_sent", "inbox_id", "sent_at"),
    )

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind), default=MessageKind.MESSAGE)
    author_agent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    author_contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(998))
    text: Mapped[str] = mapped_column(Text, default="")  # what the agent sees (quotes stripped)
    full_text: Mapped[str | None] = mapped_column(Text)  # before quote stripping
    html: Mapped[str | None] = mapped_column(Text)  # sanitized, safe to serve
    original: Mapped[bytes | None] = mapped_column(LargeBinary)  # raw MIME / provider payload
    status: Mapped[DeliveryStatus | None] = mapped_column(str_enum(DeliveryStatus))
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_text: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    email_message_id: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)  # space-separated Message-IDs
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    author_agent: Mapped[Agent | None] = relationship(lazy="raise")
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Attachment.id")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(255))
    content_id: Mapped[str | None] = mapped_column(String(255))
    inline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
