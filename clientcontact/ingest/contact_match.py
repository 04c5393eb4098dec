"""Who wrote an inbound message: the contact an agent answers, found or created in the inbox's
account.

The sender on the event already follows mail reality (X-Original-Sender for Google Groups, a
single Reply-To over From; see `channels.email_mime.choose_sender`). Two things are left for us,
because only we know our own addresses: a sender that is one of ours (our inbox, our From, our
reply+token addresses) is never made a contact, and mail with no usable address at all (a
bounce with `From: <>`) lands on one "unknown sender" contact per account instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, InboundMessage
from clientcontact.contacts.identities import normalize
from clientcontact.contacts.models import Contact, IdentityKind
from clientcontact.contacts.service import contact_owning, create_with_identity
from clientcontact.errors import BadRequest
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.mail_facts import MailFacts
from clientcontact.settings import Settings

IDENTITY_KIND: dict[ChannelKind, IdentityKind] = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.PHONE,
}

# Mail without any usable sender address still reaches an agent, from this one contact.
UNKNOWN_SENDER = (IdentityKind.HANDLE, "email:unknown-sender")
UNKNOWN_SENDER_NAME = "Unknown sender"


def is_own_address(address: str, inbox: Inbox, settings: Settings) -> bool:
    """Whether mail from (or to) this address is ourselves: our inbox, From or reply address."""
    value = address.strip().lower().removeprefix("whatsapp:")
    if value in {inbox.address.lower(), settings.from_email.lower()}:
        return True
    domain = re.escape(settings.reply_domain.lower())
    return re.fullmatch(rf"reply\+[^@\s]+@{domain}", value) is not None


def others(addresses: Iterable[str], inbox: Inbox, settings: Settings) -> list[str]:
    """The addresses that are not ours, lower-cased, in order, once each."""
    found = (a.strip().lower() for a in addresses if a and a.strip())
    return list(dict.fromkeys(a for a in found if not is_own_address(a, inbox, settings)))


def sender_contact(session: Session, inbox: Inbox, event: InboundMessage, *,
                   settings: Settings, facts: MailFacts) -> Contact:
    """The contact matching the sender by email (lower-cased) or E.164 phone, else a new one."""
    kind = IDENTITY_KIND[event.channel]
    for address in others([event.sender, facts.from_address or ""], inbox, settings):
        try:
            value = normalize(kind, address, settings.default_phone_region)
        except BadRequest:  # junk in a header: try the next candidate
            continue
        return _find_or_create(session, inbox.account_id, (kind, value), _name(event, address))
    return _find_or_create(session, inbox.account_id, UNKNOWN_SENDER,
                           event.sender_name or UNKNOWN_SENDER_NAME)


def _name(event: InboundMessage, address: str) -> str | None:
    """The display name or WhatsApp ProfileName; for mail without one, the address's local part
    (what the customer is usually called in their own address)."""
    if event.sender_name and event.sender_name.strip():
        return event.sender_name.strip()[:200]
    if event.channel is ChannelKind.EMAIL:
        return address.partition("@")[0] or None
    return None


def _find_or_create(session: Session, account_id: int, identity: tuple[IdentityKind, str],
                    name: str | None) -> Contact:
    """By a normalized identity. Two workers may meet a new sender at once: the second one's
    insert waits on the unique key, fails when the first commits, and finds the first's."""
    kind, value = identity
    contact = contact_owning(session, account_id, kind, value)
    if contact is None:
        try:
            with session.begin_nested():
                return create_with_identity(session, account_id, name=name, kind=kind,
                                            normalized=value)
        except IntegrityError:
            contact = contact_owning(session, account_id, kind, value)
            if contact is None:
                raise
    if not contact.name and name:  # an address-only contact learns the name it signs with
        contact.name = name
    return contact
