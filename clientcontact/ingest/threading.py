"""Which existing conversation an inbound message continues, if any.

Strategies are tried in order per channel, the first hit wins, and a hit on a conversation
resolved longer ago than `reopen_window_days` counts as none (the customer is starting over).

Email: our reply token in any recipient address, then In-Reply-To / References naming a mail we
stored in this inbox. Never the subject alone: "Re: Invoice" from two customers is two stories.
A References match only counts when the sender is the conversation's contact or was on its
recipient lists: one newsletter answered by many customers must not become one conversation.
A reply token counts for anyone, because only the people we mailed hold it.

SMS and WhatsApp have no threads: the contact's latest open, pending or snoozed conversation in
the inbox, else their latest resolved one (which the new message reopens).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, InboundMessage
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.conversations.models import Conversation, ConversationStatus, Message
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import get_scoped, scoped
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.mail_facts import MailFacts
from clientcontact.settings import Settings

# References is written by strangers; the nearest ancestors are the ones that can match.
MAX_ANCESTORS = 100


@dataclass(frozen=True)
class Lookup:
    session: Session
    inbox: Inbox
    contact: Contact
    event: InboundMessage
    settings: Settings
    facts: MailFacts

    def conversations(self) -> Select[Any]:
        """This inbox's conversations."""
        return scoped(Conversation, self.inbox.account_id).where(
            Conversation.inbox_id == self.inbox.id)


Strategy = Callable[[Lookup], Conversation | None]


def by_reply_token(lookup: Lookup) -> Conversation | None:
    """reply+<token>@<reply domain> in To, Cc, the envelope recipient or a delivery header."""
    tokens = reply_tokens(lookup.event, lookup.facts, lookup.settings.reply_domain)
    if not tokens:
        return None
    return lookup.session.scalars(
        lookup.conversations().where(Conversation.reply_token.in_(tokens))
        .order_by(Conversation.id.desc()).limit(1)).first()


def reply_tokens(event: InboundMessage, facts: MailFacts, reply_domain: str) -> list[str]:
    """Tokens of our reply addresses the mail was sent to, lower-cased, in order."""
    pattern = re.compile(rf"reply\+([a-z0-9-]{{1,40}})@{re.escape(reply_domain)}(?![\w.-])",
                         re.I)
    fields = (event.recipient, *event.recipients, *event.cc, *facts.envelope)
    found = (token.lower() for value in fields if value for token in pattern.findall(value))
    return list(dict.fromkeys(found))


def by_thread_headers(lookup: Lookup) -> Conversation | None:
    """The conversation of the nearest ancestor we stored: In-Reply-To, then References from
    the newest back, among our outgoing and previous incoming mail of this inbox."""
    event = lookup.event
    newest = (event.in_reply_to, *reversed(event.references))
    wanted = list(dict.fromkeys(i for i in newest if i))[:MAX_ANCESTORS]
    if not wanted:
        return None
    rows = lookup.session.execute(
        scoped(Message, lookup.inbox.account_id, Message.email_message_id,
               Message.conversation_id)
        .where(Message.inbox_id == lookup.inbox.id, Message.email_message_id.in_(wanted))
    ).all()
    conversation_of = {message_id: conversation_id for message_id, conversation_id in rows}
    for message_id in wanted:
        if message_id in conversation_of:
            conversation = get_scoped(lookup.session, Conversation, conversation_of[message_id],
                                      lookup.inbox.account_id)
            if _is_participant(lookup, conversation):
                return conversation
    return None


def _is_participant(lookup: Lookup, conversation: Conversation) -> bool:
    """The sender is the conversation's contact, or was To/Cc on one of its messages (by the
    contact's addresses or the mail's own From, which a Reply-To may have overruled)."""
    if conversation.contact_id == lookup.contact.id:
        return True
    known = lookup.session.scalars(scoped(ContactIdentity, lookup.inbox.account_id,
                                          ContactIdentity.value)
                                   .where(ContactIdentity.contact_id == lookup.contact.id))
    identities = set(known) | {
        a.lower() for a in (lookup.facts.from_address, lookup.event.sender) if a}
    extras = lookup.session.scalars(
        scoped(Message, lookup.inbox.account_id, Message.extra)
        .where(Message.conversation_id == conversation.id))
    return any(identities & set((extra or {}).get("cc", []) + (extra or {}).get("to", []))
               for extra in extras)


# Asked for every SMS and WhatsApp message, so built once: scoped to the account like every
# query, the account, inbox and contact bound on each call (a missing one is an error).
_LATEST_OF_CONTACT = (
    scoped(Conversation, bindparam("account_id"))
    .where(Conversation.inbox_id == bindparam("inbox_id"),
           Conversation.contact_id == bindparam("contact_id"))
    .order_by(Conversation.status == ConversationStatus.RESOLVED,
              Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(1))


def latest_of_contact(lookup: Lookup) -> Conversation | None:
    """The contact's latest open, pending or snoozed conversation in the inbox, else their
    latest resolved one: one query, resolved ones sorted last."""
    return lookup.session.scalars(_LATEST_OF_CONTACT, {
        "account_id": lookup.inbox.account_id, "inbox_id": lookup.inbox.id,
        "contact_id": lookup.contact.id}).first()


STRATEGIES: dict[ChannelKind, tuple[Strategy, ...]] = {
    ChannelKind.EMAIL: (by_reply_token, by_thread_headers),
    ChannelKind.SMS: (latest_of_contact,),
    ChannelKind.WHATSAPP: (latest_of_contact,),
}


def find_conversation(lookup: Lookup) -> Conversation | None:
    """The conversation this message continues, or None when it starts a new one."""
    for strategy in STRATEGIES[lookup.event.channel]:
        conversation = strategy(lookup)
        if conversation is not None:
            return conversation if within_reopen_window(conversation, lookup.settings) else None
    return None


def within_reopen_window(conversation: Conversation, settings: Settings) -> bool:
    """Unresolved, or resolved recently enough that a new message reopens it."""
    if conversation.status is not ConversationStatus.RESOLVED:
        return True
    resolved_at = conversation.resolved_at or conversation.last_activity_at
    return utcnow() - resolved_at <= timedelta(days=settings.reopen_window_days)
