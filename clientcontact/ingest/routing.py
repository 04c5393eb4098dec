"""Routing one inbound message to its contact, conversation and message row.

An ordered chain, Chatwoot-style: first the steps that may find the event already answered for
(a provider's retry, our own mail coming back, a bounce about a message we sent), then the
sender's contact, the conversation it continues (or a new one), and the message itself.

`route_message` always returns the message the event is about, so the ingest job can stamp it
handled: the stored incoming message, or for a retry/echo/bounce the message already there.
It never commits; `add_incoming` and `open_conversation` publish to agents after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, InboundMessage
from clientcontact.conversations.inbound import add_incoming, open_conversation
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import scoped
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.bounces import apply_bounce, bounce_summary, reported_message
from clientcontact.ingest.contact_match import is_own_address, others, sender_contact
from clientcontact.ingest.content import external_id, incoming_content, store_attachments
from clientcontact.ingest.mail_facts import MailFacts, mail_facts
from clientcontact.ingest.media import MediaResult
from clientcontact.ingest.threading import Lookup, find_conversation
from clientcontact.settings import Settings


@dataclass(frozen=True)
class Routing:
    session: Session
    inbox: Inbox
    event: InboundMessage
    settings: Settings
    store: LocalFileStore
    facts: MailFacts
    stored_before: StoredBefore | None = None
    media: Mapping[str, MediaResult] = field(default_factory=dict)  # fetched before

    def messages(self) -> Select[Any]:
        """This inbox's messages."""
        return scoped(Message, self.inbox.account_id).where(Message.inbox_id == self.inbox.id)


class StoredBefore:
    """The messages a batch of events names that were stored before the batch began, found in
    one query, so `already_stored` need not ask for each new event (nearly all are new). An
    id asked a second time goes to the database: an earlier event of the batch may have stored
    it since."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, str | None], Message] = {}
        self._asked: set[tuple[int, str]] = set()

    def find(self, session: Session, events: Iterable[tuple[Inbox, InboundMessage]]) -> None:
        wanted = {(inbox.account_id, inbox.id, external_id(event)) for inbox, event in events}
        if not wanted:
            return
        found = session.scalars(select(Message).where(
            Message.account_id.in_({account_id for account_id, _, _ in wanted}),
            Message.inbox_id.in_({inbox_id for _, inbox_id, _ in wanted}),
            Message.external_id.in_({key for _, _, key in wanted})))
        self._found = {(message.inbox_id, message.external_id): message for message in found}

    def answer(self, inbox: Inbox, key: str) -> tuple[bool, Message | None]:
        """(True, the message or None) the first time an id is asked; (False, None) after."""
        if (inbox.id, key) in self._asked:
            return False, None
        self._asked.add((inbox.id, key))
        return True, self._found.get((inbox.id, key))


Shortcut = Callable[[Routing], Message | None]


def already_stored(routing: Routing) -> Message | None:
    """A provider's retry: the same external id in this inbox is the same message."""
    key = external_id(routing.event)
    if routing.stored_before is not None:
        answered, message = routing.stored_before.answer(routing.inbox, key)
        if answered:
            return message
    return routing.session.scalars(
        routing.messages().where(Message.external_id == key)).first()


def same_message_id(routing: Routing) -> Message | None:
    """The same Message-ID again (another delivery path, or our own sent mail coming back
    through a BCC or a forwarding loop) is the message we already have."""
    message_id = routing.event.email_message_id
    if routing.event.channel is not ChannelKind.EMAIL or not message_id:
        return None
    return routing.session.scalars(
        routing.messages().where(Message.email_message_id == message_id)
        .order_by(Message.id).limit(1)).first()


def delivery_report(routing: Routing) -> Message | None:
    """A bounce about one of our messages fails that message and shows nothing new."""
    bounce = routing.facts.bounce
    if bounce is None:
        return None
    message = reported_message(routing.session, routing.inbox, bounce)
    if message is not None:
        apply_bounce(routing.session, message, bounce)
    return message


SHORTCUTS: tuple[Shortcut, ...] = (already_stored, same_message_id, delivery_report)


def route_message(session: Session, inbox: Inbox, event: InboundMessage, *,
                  settings: Settings, store: LocalFileStore,
                  stored_before: StoredBefore | None = None,
                  media: Mapping[str, MediaResult] | None = None) -> Message:
    """The message this inbound event is about, stored in its conversation if it is new;
    `media` holds its provider-hosted files fetched before the transaction (any not there
    are listed missing and fetched later by a job)."""
    routing = Routing(session, inbox, event, settings, store, mail_facts(event), stored_before,
                      media or {})
    for shortcut in SHORTCUTS:
        known = shortcut(routing)
        if known is not None:
            return known
    return store_incoming(routing)


def store_incoming(routing: Routing) -> Message:
    """A message we have not seen: its contact, its conversation (maybe new), its files."""
    session, inbox, event = routing.session, routing.inbox, routing.event
    contact = sender_contact(session, inbox, event, settings=routing.settings,
                             facts=routing.facts)
    content = incoming_content(event)
    incoming = replace(content.incoming, received_at=utcnow(),
                       extra={**content.extra, **flags(routing)})
    lookup = Lookup(session, inbox, contact, event, routing.settings, routing.facts)
    conversation = find_conversation(lookup) or open_conversation(
        session, inbox, contact, subject=incoming.subject, at=incoming.received_at,
        incoming=True)
    message = add_incoming(session, conversation, contact, incoming)
    files = store_attachments(session, message, inbox, event.attachments,
                              settings=routing.settings, store=routing.store,
                              media=routing.media)
    if files:
        message.extra = {**message.extra, **files}
        session.flush()
    return message


def flags(routing: Routing) -> dict[str, Any]:
    """What agents and (later) automation must know: loops, auto-replies, who else was on it.

    `auto_submitted` marks mail no automation may answer: auto-replies, bulk and list mail,
    bounces, and mail from our own addresses (`loop`).
    """
    event, inbox, settings = routing.event, routing.inbox, routing.settings
    author = routing.facts.from_address or event.sender
    loop = bool(author) and is_own_address(author, inbox, settings)
    facts: dict[str, Any] = {
        "auto_submitted": event.auto_submitted or loop,
        "loop": loop,
        "cc": others(event.cc, inbox, settings),
        "to": others(event.recipients, inbox, settings),
        "bounce": bounce_summary(routing.facts.bounce) if routing.facts.bounce else None,
        "date": event.occurred_at.isoformat() if event.occurred_at else None,
    }
    return {key: value for key, value in facts.items() if value}
