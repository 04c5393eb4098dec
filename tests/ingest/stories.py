"""Builders for routing stories: mail and texts as customers' phones and clients send them,
routed as the ingest job would, and read back as an agent sees them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from clientcontact.channels.base import ChannelKind, InboundAttachment, InboundMessage
from clientcontact.channels.email_mime import inbound_message_from_mime
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.conversations.models import Attachment, Conversation, ConversationStatus, Message
from clientcontact.conversations.service import get_conversation, set_status
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import get_scoped, scoped
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.routing import route_message
from clientcontact.settings import Settings
from tests.builders import inbox_id
from tests.harness import Api, Person

SUPPORT = "support@acme.test"  # the Acme email inbox (FROM_EMAIL in tests)
MARIA = "Maria Garcia <maria@example.org>"


def mail(*, sender: str = MARIA, to: str = SUPPORT, subject: str | None = "Damaged order",
         text: str = "My order arrived damaged.", message_id: str | None = None,
         in_reply_to: str | None = None, references: Sequence[str] = (), cc: str | None = None,
         html: str | None = None, headers: dict[str, str] | None = None,
         attachments: Sequence[tuple[str, str, bytes]] = ()) -> bytes:
    """One mail as a customer's client writes it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if subject is not None:
        msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def email(raw: bytes, *, recipient: str = SUPPORT) -> InboundMessage:
    return inbound_message_from_mime(raw, recipient=recipient)


def text_message(text: str, *, sender: str = "+14155550123", channel: ChannelKind = ChannelKind.SMS,
                 external_id: str | None = None, name: str | None = None,
                 media: Sequence[InboundAttachment] = ()) -> InboundMessage:
    """An SMS or WhatsApp message as the Twilio adapter hands it over."""
    inbox_number = {ChannelKind.SMS: "+15005550006", ChannelKind.WHATSAPP: "+14155238886"}
    return InboundMessage(
        external_id=external_id or f"SM{abs(hash((text, sender, utcnow()))):032x}"[:34],
        channel=channel, sender=sender, recipient=inbox_number[channel], text=text,
        sender_name=name, attachments=tuple(media))


@dataclass(frozen=True)
class Seen:
    """A routed message as an agent sees it."""

    id: int
    conversation_id: int
    contact_id: int | None
    contact_name: str | None
    contact_addresses: list[str]
    direction: str
    text: str
    full_text: str | None
    html: str | None
    subject: str | None
    status: str | None
    error_text: str | None
    extra: dict[str, Any]
    attachments: list[tuple[str, bool, int]]  # filename, inline, size
    conversation_status: str


def route(api: Api, event: InboundMessage, *, person: Person | None = None,
          settings: Settings | None = None) -> Seen:
    person = person or api.alice
    with api.session() as session:
        inbox = session.get_one(Inbox, inbox_id(api, person, event.channel))
        message = route_message(session, inbox, event, settings=settings or api.settings,
                                store=api.server.runtime.store)
        message_id = message.id
    return seen(api, message_id, person=person)


def seen(api: Api, message_id: int, *, person: Person | None = None) -> Seen:
    account_id = (person or api.alice).actor.account_id
    with api.session() as session:
        message = get_scoped(session, Message, message_id, account_id)
        conversation = get_scoped(session, Conversation, message.conversation_id, account_id)
        contact_id = message.author_contact_id or conversation.contact_id
        contact = session.get_one(Contact, contact_id)
        addresses = list(session.scalars(
            scoped(ContactIdentity, account_id, ContactIdentity.value)
            .where(ContactIdentity.contact_id == contact_id)))
        files = session.scalars(scoped(Attachment, account_id)
                                .where(Attachment.message_id == message.id)
                                .order_by(Attachment.id))
        return Seen(
            id=message.id, conversation_id=message.conversation_id,
            contact_id=message.author_contact_id, contact_name=contact.name,
            contact_addresses=addresses, direction=message.direction.value, text=message.text,
            full_text=message.full_text, html=message.html, subject=message.subject,
            status=message.status.value if message.status else None,
            error_text=message.error_text, extra=dict(message.extra or {}),
            attachments=[(f.filename, f.inline, f.size) for f in files],
            conversation_status=conversation.status.value)


def agent_replies(api: Api, conversation_id: int, text: str = "A replacement is on its way.",
                  *, person: Person | None = None) -> dict[str, Any]:
    """The agent answers through the API and the worker sends it; returns the MessageOut."""
    http = (person or api.alice).http
    response = http.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})
    assert response.status_code == 201, response.text
    api.run_worker()
    return http.get(f"/api/v1/messages/{response.json()['id']}").json()


def reply_address(api: Api, conversation_id: int, *, person: Person | None = None) -> str:
    with api.session() as session:
        conversation = get_scoped(session, Conversation, conversation_id,
                                  (person or api.alice).actor.account_id)
        return f"reply+{conversation.reply_token}@{api.settings.reply_domain}"


def resolve(api: Api, conversation_id: int, *, days_ago: float = 0) -> None:
    """The agent marks the conversation resolved (as if `days_ago` days ago)."""
    with api.session() as session:
        conversation = get_conversation(session, api.alice.actor, conversation_id)
        set_status(session, api.alice.actor, conversation, ConversationStatus.RESOLVED)
        conversation.resolved_at = utcnow() - timedelta(days=days_ago)
        conversation.last_activity_at = conversation.resolved_at


def messages_in(api: Api, conversation_id: int) -> list[dict[str, Any]]:
    response = api.alice.http.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return [m for m in response.json()["messages"] if m["kind"] == "message"]


def conversations_of(api: Api, contact_id: int) -> list[int]:
    with api.session() as session:
        return list(session.scalars(
            scoped(Conversation, api.alice.actor.account_id, Conversation.id)
            .where(Conversation.contact_id == contact_id).order_by(Conversation.id)))

