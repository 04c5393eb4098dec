"""An agent's reply is saved first, then delivered: the message row (queued) and its delivery
job are written in the caller's one transaction, so a reply is never lost between the two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, DeliveryStatus, WhatsAppTemplate
from clientcontact.contacts.models import Contact, IdentityKind
from clientcontact.contacts.service import create_contact, find_by_identity, get_contact
from clientcontact.conversations.email_thread import new_message_id, thread_headers
from clientcontact.conversations.models import (
    Attachment,
    Conversation,
    Direction,
    Message,
    MessageKind,
)
from clientcontact.conversations.service import get_conversation, new_reply_token
from clientcontact.conversations.whatsapp_window import check_reply_allowed
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import Actor, get_scoped
from clientcontact.errors import BadRequest, Conflict, Unprocessable
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import get_inbox
from clientcontact.jobs.queue import enqueue
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

DELIVERY_JOB = "delivery.send"

# The identity a channel delivers to.
RECIPIENT_KIND: dict[ChannelKind, IdentityKind] = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.PHONE,
}


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    data: bytes


def reply(session: Session, actor: Actor, conversation_id: int, *, text: str,
          html: str | None = None, attachments: Sequence[NewAttachment] = (),
          template: WhatsAppTemplate | None = None, store: LocalFileStore,
          reply_domain: str) -> Message:
    """A WhatsApp reply outside the 24-hour window needs `template`; the worker sends it."""
    conversation = get_conversation(session, actor, conversation_id)
    if not text.strip() and not attachments and template is None:
        raise BadRequest("a reply needs text or an attachment")
    recipient(conversation.contact, conversation.inbox.channel)  # fail now, not in the worker
    check_reply_allowed(conversation, template)
    message = Message(
        account_id=actor.account_id, conversation_id=conversation.id,
        inbox_id=conversation.inbox_id, direction=Direction.OUT, kind=MessageKind.MESSAGE,
        author_agent_id=actor.agent_id, text=text, html=html, status=DeliveryStatus.QUEUED,
        extra={"template": stored_template(template)} if template else {},
    )
    if conversation.inbox.channel is ChannelKind.EMAIL:
        headers = thread_headers(session, conversation)
        message.subject = headers.subject
        message.in_reply_to = headers.in_reply_to
        message.references = " ".join(headers.references) or None
        # Made now, not at send time, so a retried send carries the same Message-ID.
        message.email_message_id = new_message_id(reply_domain)
    message.attachments = [
        Attachment(account_id=actor.account_id, filename=a.filename, content_type=a.content_type,
                   size=len(a.data), storage_key=store.put(actor.account_id, a.data))
        for a in attachments
    ]
    session.add(message)
    session.flush()
    now = utcnow()
    conversation.first_reply_at = conversation.first_reply_at or now
    conversation.waiting_since = None
    conversation.last_activity_at = now
    enqueue_delivery(session, message)
    _announce(session, message)
    return message


def add_note(session: Session, actor: Actor, conversation_id: int, *, text: str) -> Message:
    """An internal note: visible to agents, never sent to the contact."""
    conversation = get_conversation(session, actor, conversation_id)
    if not text.strip():
        raise BadRequest("a note needs text")
    note = Message(
        account_id=actor.account_id, conversation_id=conversation.id,
        inbox_id=conversation.inbox_id, direction=Direction.OUT, kind=MessageKind.NOTE,
        author_agent_id=actor.agent_id, text=text, extra={},
    )
    session.add(note)
    session.flush()
    _announce(session, note)
    return note


def retry(session: Session, actor: Actor, message_id: int) -> Message:
    """An agent's explicit retry of a failed message: back to queued, with a fresh job."""
    message = get_scoped(session, Message, message_id, actor.account_id)
    if message.kind is not MessageKind.MESSAGE or message.direction is not Direction.OUT:
        raise Conflict("only outgoing messages can be retried")
    if message.status is not DeliveryStatus.FAILED:
        raise Conflict(f"only a failed message can be retried; this one is {message.status}")
    message.status = DeliveryStatus.QUEUED
    message.error_code = message.error_text = None
    message.failed_at = None
    session.flush()
    enqueue_delivery(session, message)
    publish_after_commit(session, RealtimeEvent(actor.account_id, "message.status", {
        "conversation_id": message.conversation_id, "message_id": message.id,
        "status": message.status}))
    return message


def start_conversation(session: Session, actor: Actor, *, inbox_id: int, contact_id: int,
                       text: str, subject: str | None, store: LocalFileStore,
                       reply_domain: str, template: WhatsAppTemplate | None = None,
                       ) -> tuple[Conversation, Message]:
    """An agent writes first: a new conversation with one queued message."""
    inbox = get_inbox(session, actor, inbox_id)
    contact = get_contact(session, actor, contact_id)
    recipient(contact, inbox.channel)
    if inbox.channel is ChannelKind.EMAIL and not (subject or "").strip():
        raise BadRequest("an email conversation needs a subject")
    conversation = Conversation(
        account_id=actor.account_id, inbox_id=inbox.id, contact_id=contact.id,
        subject=subject, reply_token=new_reply_token(), assignee_id=actor.agent_id,
    )
    session.add(conversation)
    session.flush()
    message = reply(session, actor, conversation.id, text=text, template=template, store=store,
                    reply_domain=reply_domain)
    if inbox.channel is ChannelKind.EMAIL:
        message.subject = subject
    return conversation, message


def recipient(contact: Contact, channel: ChannelKind) -> str:
    """The address this channel delivers to; refusing early beats failing in the worker."""
    kind = RECIPIENT_KIND[channel]
    for identity in contact.identities:
        if identity.kind is kind:
            return identity.value
    raise Unprocessable(f"this contact has no {kind} to send a {channel} message to")


def stored_template(template: WhatsAppTemplate) -> dict[str, object]:
    """How a template is kept in `Message.extra["template"]`."""
    return {"content_sid": template.content_sid, "variables": dict(template.variables)}


def template_of(message: Message) -> WhatsAppTemplate | None:
    stored = (message.extra or {}).get("template")
    if not stored:
        return None
    return WhatsAppTemplate(stored["content_sid"], dict(stored.get("variables") or {}))


def enqueue_delivery(session: Session, message: Message) -> None:
    enqueue(session, DELIVERY_JOB, {"message_id": message.id}, account_id=message.account_id,
            key=f"{DELIVERY_JOB}:{message.id}")


def _announce(session: Session, message: Message) -> None:
    publish_after_commit(session, RealtimeEvent(message.account_id, "message.created", {
        "conversation_id": message.conversation_id, "message_id": message.id}))


TEST_SUBJECT = "Test message from ClientContact"
TEST_TEXT = "This is a test message from ClientContact: if you can read it, this inbox can send."


def start_test_conversation(session: Session, actor: Actor, inbox: Inbox, to: str, *,
                            store: LocalFileStore, reply_domain: str) -> Conversation:
    """An admin's test of an inbox: a real conversation with `to` (found or created as a
    contact), so its delivery is the same path and shows the same statuses as any reply."""
    kind = RECIPIENT_KIND[inbox.channel]
    contact = find_by_identity(session, actor, kind, to) or create_contact(
        session, actor, name=None, identities=[(kind, to)])
    conversation, _ = start_conversation(
        session, actor, inbox_id=inbox.id, contact_id=contact.id, text=TEST_TEXT,
        subject=TEST_SUBJECT if inbox.channel is ChannelKind.EMAIL else None, store=store,
        reply_domain=reply_domain)
    return conversation
