"""Small keyword builders for the situations our stories start from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Role
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact, get_contact
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import list_inboxes
from tests.harness import PASSWORD, Api, Person


@dataclass(frozen=True)
class Thread:
    conversation_id: int
    contact_id: int
    inbox_id: int
    message_id: int


def inbox_id(api: Api, person: Person, channel: ChannelKind) -> int:
    with api.session() as session:
        return next(i.id for i in list_inboxes(session, person.actor) if i.channel is channel)


def customer_writes(api: Api, person: Person, *, channel: ChannelKind = ChannelKind.EMAIL,
                    name: str = "Maria Garcia", address: str | None = None,
                    text: str = "My order arrived damaged.", subject: str | None = "Damaged order",
                    email_message_id: str | None = None, at: datetime | None = None,
                    contact_id: int | None = None) -> Thread:
    """A customer starts a conversation in the person's account, as ingest would record it."""
    is_email = channel is ChannelKind.EMAIL
    address = address or ("maria@example.org" if is_email else "+14155550123")
    with api.session() as session:
        inbox = session.get(Inbox, inbox_id(api, person, channel))
        assert inbox is not None
        if contact_id is None:
            kind = IdentityKind.EMAIL if is_email else IdentityKind.PHONE
            contact = create_contact(session, person.actor, name=name,
                                     identities=[(kind, address)])
        else:
            contact = get_contact(session, person.actor, contact_id)
        conversation = open_conversation(session, inbox, contact,
                                         subject=subject if is_email else None, at=at)
        message = add_incoming(session, conversation, contact, IncomingContent(
            text=text, subject=subject if is_email else None, received_at=at,
            email_message_id=email_message_id or (f"<{text.__hash__()}@mail.example.org>"
                                                  if is_email else None)))
        return Thread(conversation.id, contact.id, inbox.id, message.id)



def new_agent(api: Api, name: str, *, password: str = PASSWORD) -> str:
    """A new agent of Acme's; the unique email keeps the login throttle's count (which
    outlives a test's data) to this test."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@acme.test"
    with api.session() as session:
        account = session.get_one(Account, api.alice.actor.account_id)
        accounts.add_member(session, account, accounts.create_agent(
            session, email=email, name=name, password=password), Role.AGENT)
    return email
