"""Creating and finding inboxes; the default inboxes come from the environment."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind
from clientcontact.channels.registry import PROVIDERS_FOR_CHANNEL
from clientcontact.contacts.identities import normalize_email, normalize_phone
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import Conflict, NotFound
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.settings import Settings


def normalize_address(channel: ChannelKind, address: str, region: str = "US") -> str:
    return normalize_email(address) if channel is ChannelKind.EMAIL else normalize_phone(
        address, region)


def list_inboxes(session: Session, actor: Actor) -> list[Inbox]:
    return list(session.scalars(scoped(Inbox, actor.account_id).order_by(Inbox.id)))


def get_inbox(session: Session, actor: Actor, inbox_id: int) -> Inbox:
    return get_scoped(session, Inbox, inbox_id, actor.account_id)


def create_inbox(session: Session, actor: Actor, *, name: str, channel: ChannelKind,
                 provider: str, address: str, display_name: str | None = None,
                 credentials: dict[str, str] | None = None, box: CredentialBox | None = None,
                 region: str = "US") -> Inbox:
    """Credentials are sealed before they touch the database; None means 'from the environment'."""
    if provider not in PROVIDERS_FOR_CHANNEL[channel]:
        raise Conflict(f"provider {provider!r} cannot serve a {channel} inbox")
    address = normalize_address(channel, address, region)
    taken = session.scalar(select(Inbox.id).where(Inbox.channel == channel,
                                                  Inbox.address == address))
    if taken is not None:
        raise Conflict(f"{address} is already the address of an inbox")
    sealed = box.seal(credentials) if credentials and box else None
    inbox = Inbox(account_id=actor.account_id, name=name, channel=channel, provider=provider,
                  address=address, display_name=display_name, public_key=secrets.token_hex(12),
                  credentials_encrypted=sealed, options={})
    session.add(inbox)
    session.flush()
    return inbox


def inbox_for_recipient(session: Session, channel: ChannelKind, address: str) -> Inbox:
    """The inbox a provider's shared webhook path is addressed to (unscoped: the caller is a
    provider, not an agent; the request is then verified with that inbox's own secret)."""
    inbox = session.scalar(select(Inbox).where(Inbox.channel == channel,
                                               Inbox.address == address))
    if inbox is None:
        raise NotFound(f"no {channel} inbox receives at {address}")
    return inbox


def inbox_for_public_key(session: Session, public_key: str) -> Inbox:
    """The inbox a per-inbox webhook URL names (unscoped, as above: verified afterwards)."""
    inbox = session.scalar(select(Inbox).where(Inbox.public_key == public_key))
    if inbox is None:
        raise NotFound("no inbox has this webhook URL")
    return inbox


def ensure_default_inboxes(session: Session, actor: Actor, settings: Settings) -> list[Inbox]:
    """One email and one SMS inbox configured by EMAIL_SERVICE / SMS_SERVICE, if absent."""
    wanted = [
        ("Email", ChannelKind.EMAIL, settings.email_service, settings.from_email,
         settings.from_name),
    ]
    if settings.twilio_phone_number or settings.sms_service == "mock":
        wanted.append(("SMS", ChannelKind.SMS, settings.sms_service,
                       settings.twilio_phone_number or "+15005550006", None))
    if settings.twilio_whatsapp_number or settings.sms_service == "mock":
        wanted.append(("WhatsApp", ChannelKind.WHATSAPP, settings.sms_service,
                       settings.twilio_whatsapp_number or "+14155238886", None))
    existing = list_inboxes(session, actor)
    created = []
    for name, channel, provider, address, display in wanted:
        if any(i.channel is channel for i in existing):
            continue
        created.append(create_inbox(session, actor, name=name, channel=channel,
                                    provider=provider, address=address, display_name=display,
                                    region=settings.default_phone_region))
    return created
