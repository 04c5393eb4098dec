"""API shapes for conversations and messages."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from pydantic import MISSING, BaseModel, ConfigDict, Field, field_validator

from clientcontact.channels.base import ChannelKind, DeliveryStatus, WhatsAppTemplate
from clientcontact.contacts.schemas import ContactOut
from clientcontact.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageKind,
    Priority,
)
from clientcontact.conversations.whatsapp_window import window_closes_at, window_is_open
from clientcontact.inputs import Id, MediaType, OneLine, PlainText, UtcDatetime

TagName = Annotated[OneLine, Field(min_length=1, max_length=60)]


class AgentRef(BaseModel):
    id: int
    name: str


class InboxRef(BaseModel):
    id: int
    name: str
    channel: ChannelKind


class ConversationOut(BaseModel):
    id: int
    inbox: InboxRef
    contact: ContactOut
    status: ConversationStatus
    snoozed_until: datetime | None
    assignee: AgentRef | None
    team_id: int | None
    priority: Priority
    subject: str | None
    tags: list[str]
    created_at: datetime
    first_reply_at: datetime | None
    last_activity_at: datetime
    waiting_since: datetime | None
    resolved_at: datetime | None
    # Free-form WhatsApp replies are allowed until then; null for other channels.
    whatsapp_window_open: bool | None
    whatsapp_window_open_until: datetime | None

    @classmethod
    def of(cls, c: Conversation) -> ConversationOut:
        return cls(
            id=c.id, inbox=InboxRef(id=c.inbox.id, name=c.inbox.name, channel=c.inbox.channel),
            contact=ContactOut.of(c.contact), status=c.status, snoozed_until=c.snoozed_until,
            assignee=AgentRef(id=c.assignee.id, name=c.assignee.name) if c.assignee else None,
            team_id=c.team_id, priority=c.priority, subject=c.subject,
            tags=sorted(t.name for t in c.tags), created_at=c.created_at,
            first_reply_at=c.first_reply_at, last_activity_at=c.last_activity_at,
            waiting_since=c.waiting_since, resolved_at=c.resolved_at,
            whatsapp_window_open=window_is_open(c), whatsapp_window_open_until=window_closes_at(c),
        )


class ConversationPage(BaseModel):
    conversations: list[ConversationOut]
    next_cursor: str | None


class ConversationUpdate(BaseModel):
    """Only the fields given are changed; null is taken only where it means something: it
    unassigns (assignee_id) or removes from the team (team_id)."""

    model_config = ConfigDict(extra="forbid")
    status: ConversationStatus | MISSING = MISSING
    snoozed_until: UtcDatetime | MISSING = Field(
        default=MISSING, description="with status 'snoozed' only")
    assignee_id: Id | MISSING | None = MISSING
    team_id: Id | MISSING | None = MISSING
    priority: Priority | MISSING = MISSING
    tags: list[TagName] | MISSING = Field(default=MISSING, max_length=50)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class TemplateIn(BaseModel):
    """An approved WhatsApp template (Twilio Content API): what may be sent outside the window."""

    model_config = ConfigDict(extra="forbid")
    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$", max_length=34)
    variables: dict[Annotated[PlainText, Field(max_length=20)],
                    Annotated[PlainText, Field(max_length=1024)]] = Field(
        default_factory=dict, max_length=100)

    def template(self) -> WhatsAppTemplate:
        return WhatsAppTemplate(self.content_sid, dict(self.variables))


class ConversationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inbox_id: Id
    contact_id: Id
    subject: OneLine | None = Field(default=None, max_length=998)
    text: PlainText = Field(default="", max_length=100_000)
    template: TemplateIn | None = None


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: OneLine = Field(min_length=1, max_length=255)
    content_type: MediaType = "application/octet-stream"
    # A bound for the schema only: MAX_REQUEST_BYTES refuses a large body before this.
    data_base64: str = Field(max_length=100_000_000)

    @field_validator("data_base64")
    @classmethod
    def _decodable(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("data_base64 must be base64") from exc
        return value

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.data_base64)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: PlainText = Field(default="", max_length=100_000)
    html: PlainText | None = Field(default=None, max_length=1_000_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    template: TemplateIn | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: PlainText = Field(min_length=1, max_length=100_000)


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool


class MissingAttachmentOut(BaseModel):
    """A provider-hosted file not fetched (yet): still being retried, or given up, and why."""

    filename: str
    content_type: str
    reason: str
    retrying: bool


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    direction: Direction
    kind: MessageKind
    author_agent_id: int | None
    author_contact_id: int | None
    subject: str | None
    text: str
    html: str | None
    status: DeliveryStatus | None
    error_code: str | None
    error_text: str | None
    external_id: str | None
    email_message_id: str | None
    in_reply_to: str | None
    references: list[str]
    attachments: list[AttachmentOut]
    missing_attachments: list[MissingAttachmentOut] = []
    template: dict[str, Any] | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    auto_submitted: bool = False  # auto-reply, bulk mail or bounce: never answer automatically

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id, conversation_id=m.conversation_id, direction=m.direction, kind=m.kind,
            author_agent_id=m.author_agent_id, author_contact_id=m.author_contact_id,
            subject=m.subject, text=m.text, html=m.html, status=m.status,
            error_code=m.error_code, error_text=m.error_text, external_id=m.external_id,
            email_message_id=m.email_message_id, in_reply_to=m.in_reply_to,
            references=(m.references or "").split(),
            attachments=[AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type,
                                       size=a.size, inline=a.inline) for a in m.attachments],
            missing_attachments=[MissingAttachmentOut(
                filename=r["filename"], content_type=r["content_type"], reason=r["reason"],
                retrying=r["retrying"]) for r in (m.extra or {}).get("missing_attachments", [])],
            template=(m.extra or {}).get("template"),
            created_at=m.created_at, sent_at=m.sent_at, delivered_at=m.delivered_at,
            read_at=m.read_at, failed_at=m.failed_at,
            auto_submitted=bool((m.extra or {}).get("auto_submitted")),
        )


class MessagePage(BaseModel):
    messages: list[MessageOut]
    next_cursor: str | None


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: TagName
    color: OneLine | None = Field(default=None, max_length=20)


class TagOut(BaseModel):
    id: int
    name: str
    color: str | None
