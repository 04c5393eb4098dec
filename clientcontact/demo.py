"""The demo account a newcomer logs into: a few inboxes, contacts and live-looking threads
across email, SMS and WhatsApp, so the UI and API have something to show.

Its password is published (README), so it belongs to demo deployments only
(`Settings.demo_deployment`); elsewhere the login service refuses it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientcontact.accounts import service as accounts
from clientcontact.accounts.credentials import verify_password
from clientcontact.accounts.models import Account, Agent, Role
from clientcontact.accounts.teams import create_team
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.conversations.service import update_conversation
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import ensure_default_inboxes, list_inboxes
from clientcontact.settings import Settings

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "clientcontact-demo"
DEMO_AGENTS = (DEMO_EMAIL, "sam@example.com")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str | None  # None once it is no longer the published one
    created: bool


# (contact name, identity kind, address, channel, subject, messages, minutes ago, tags)
THREADS = [
    ("Maria Garcia", IdentityKind.EMAIL, "maria.garcia@example.org", ChannelKind.EMAIL,
     "Order #10482 arrived damaged",
     ["Hi, my order arrived today but the lamp shade is cracked. Can you send a replacement?"],
     12, ["orders"]),
    ("Tom Becker", IdentityKind.EMAIL, "tom@becker-consulting.example", ChannelKind.EMAIL,
     "Invoice for October",
     ["Hello, could you resend the October invoice with our VAT number on it?",
      "Our VAT number is DE123456789. Thanks!"], 95, ["billing"]),
    ("Aisha Khan", IdentityKind.PHONE, "+14155550123", ChannelKind.SMS, None,
     ["Hi! Is the store on Market St open on Sunday?"], 3, []),
    ("Lucas Silva", IdentityKind.PHONE, "+5511955550199", ChannelKind.WHATSAPP, None,
     ["Olá! I ordered the blue backpack, when will it ship?", "Order 10511"], 40, ["orders"]),
    ("Priya Patel", IdentityKind.PHONE, "+447911123456", ChannelKind.SMS, None,
     ["Can I move my appointment to Thursday?"], 300, []),
]


def ensure_demo(session: Session, settings: Settings) -> DemoLogin:
    """Create the demo account once; on later starts only report the login."""
    if session.scalar(select(Account.id).limit(1)) is not None:
        known = DEMO_EMAIL in published_logins(session)
        return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD if known else None, False)
    account = accounts.create_account(session, "Demo Company")
    admin = accounts.create_agent(session, email=DEMO_EMAIL, name="Alex Admin",
                                  password=DEMO_PASSWORD)
    accounts.add_member(session, account, admin, Role.ADMIN)
    agent = accounts.create_agent(session, email=DEMO_AGENTS[1], name="Sam Support",
                                  password=DEMO_PASSWORD)
    accounts.add_member(session, account, agent, Role.AGENT)
    actor = Actor(account_id=account.id, agent_id=admin.id, role=Role.ADMIN.value)
    create_team(session, actor, "Billing", [admin.id, agent.id])
    ensure_default_inboxes(session, actor, settings)
    seed_threads(session, actor)
    return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD, True)


def published_logins(session: Session) -> list[str]:
    """The demo's agents that still log in with the published password."""
    agents = session.scalars(select(Agent).where(Agent.email.in_(DEMO_AGENTS),
                                                 Agent.is_active.is_(True)))
    return [a.email for a in agents if verify_password(a.password_hash, DEMO_PASSWORD)]


def seed_threads(session: Session, actor: Actor) -> None:
    inbox_by_channel = {i.channel: i for i in list_inboxes(session, actor)}
    for name, kind, address, channel, subject, texts, minutes_ago, tags in THREADS:
        inbox = inbox_by_channel.get(channel)
        if inbox is None:
            continue
        contact = create_contact(session, actor, name=name, identities=[(kind, address)])
        started = utcnow() - timedelta(minutes=minutes_ago)
        conversation = open_conversation(session, inbox, contact, subject=subject, at=started)
        for offset, text in enumerate(texts):
            add_incoming(session, conversation, contact, IncomingContent(
                text=text, subject=subject, received_at=started + timedelta(minutes=offset)))
        if tags:
            update_conversation(session, actor, conversation.id, {"tags": tags})
