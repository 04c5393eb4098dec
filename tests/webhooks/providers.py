"""Inboxes on real providers, their signed requests, and what the database holds afterwards.

Each provider inbox is created with its own credentials (sealed with the app's key), the way
an admin sets one up. Requests are fixtures signed at test time (`tests/signing.py`) and posted
over HTTP to the app on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from clientcontact.channels.base import ChannelKind, DeliveryStatus
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.conversations.inbound import open_conversation
from clientcontact.conversations.models import Direction, Message, MessageKind
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import create_inbox
from clientcontact.inboxes.urls import inbound_url, status_callback_url
from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api, Person
from tests.signing import (
    SendGridSigner,
    SnsSigner,
    load_fixture,
    twilio_signature,
)

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "12345678901234567890123456789012"  # tests.signing.TWILIO_AUTH_TOKEN
SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:clientcontact-ses"
INBOUND_EMAIL = "support@inbound.example.com"  # where the email fixtures are addressed


@dataclass(frozen=True)
class ProviderInbox:
    id: int
    public_key: str
    inbound_path: str
    status_path: str


def provider_inbox(api: Api, *, channel: ChannelKind, provider: str, address: str,
                   credentials: Mapping[str, str], person: Person | None = None) -> ProviderInbox:
    """An inbox on a real provider; whatever inbox held that address before is removed."""
    person = person or api.alice
    runtime = api.server.runtime
    with api.session() as session:
        session.execute(delete(Inbox).where(Inbox.channel == channel, Inbox.address == address))
        inbox = create_inbox(session, person.actor, name=f"{provider} {channel}",
                             channel=channel, provider=provider, address=address,
                             credentials=dict(credentials), box=runtime.adapters.box)
        settings = runtime.settings
        return ProviderInbox(inbox.id, inbox.public_key,
                             inbound_url(settings, inbox).removeprefix(settings.public_url),
                             status_callback_url(settings, inbox).removeprefix(settings.public_url))


def twilio_inbox(api: Api, channel: ChannelKind = ChannelKind.SMS, *,
                 api_base_url: str | None = None) -> ProviderInbox:
    address = {ChannelKind.SMS: "+15005550006", ChannelKind.WHATSAPP: "+14155238886"}[channel]
    credentials = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}
    if api_base_url:
        credentials["api_base_url"] = api_base_url
    return provider_inbox(api, channel=channel, provider="twilio", address=address,
                          credentials=credentials)


def sendgrid_inbox(api: Api, signer: SendGridSigner) -> ProviderInbox:
    return provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                          address=INBOUND_EMAIL, credentials={
                              "api_key": "SG.test-key",
                              "inbound_verification_key": signer.verification_key,
                              "webhook_verification_key": signer.verification_key})


def ses_inbox(api: Api) -> ProviderInbox:
    return provider_inbox(api, channel=ChannelKind.EMAIL, provider="ses", address=INBOUND_EMAIL,
                          credentials={"topic_arn": SES_TOPIC, "region": "us-east-1",
                                       "access_key": "testing", "secret_key": "testing"})


# --- posting signed requests -----------------------------------------------------------------

def post(api: Api, path: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    with api.anonymous() as http:
        return http.post(path, content=body, headers=dict(headers))


def post_twilio(api: Api, path: str, name: str, *, body: bytes | None = None,
                signature: str | None = None) -> httpx.Response:
    """Signed over the PUBLIC url, as Twilio signs the URL it was given."""
    fixture = load_fixture("twilio", name)
    body = fixture.body if body is None else body
    url = api.settings.public_url + path
    sign = twilio_signature(url, body) if signature is None else signature
    return post(api, path, body, {**fixture.headers, "x-twilio-signature": sign})


def post_sendgrid(api: Api, path: str, name: str, signer: SendGridSigner) -> httpx.Response:
    fixture = load_fixture("sendgrid", name)
    return post(api, path, fixture.body,
                {**fixture.headers, **signer.headers(fixture.body, datetime.now(UTC))})


def post_sns(api: Api, path: str, name: str, signer: SnsSigner, cert_url: str,
             **changes: str) -> httpx.Response:
    """An SNS envelope signed with the loopback certificate; `changes` alter signed fields."""
    fixture = load_fixture("ses", name)
    envelope = {**json.loads(fixture.body), **changes}
    return post(api, path, signer.sign(envelope, cert_url), fixture.headers)


# --- what the database holds -----------------------------------------------------------------

def count(api: Api, model: Any, *where: Any) -> int:
    with api.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def events(api: Api) -> list[InboundEventRow]:
    with api.session() as session:
        return list(session.scalars(select(InboundEventRow).order_by(InboundEventRow.id)))


def incoming(api: Api) -> list[Message]:
    with api.session() as session:
        return list(session.scalars(select(Message).where(Message.direction == Direction.IN)
                                    .order_by(Message.id)))


def message(api: Api, message_id: int) -> Message:
    with api.session() as session:
        return session.get_one(Message, message_id)


def sent_message(api: Api, inbox: ProviderInbox, external_id: str,
                 status: DeliveryStatus = DeliveryStatus.SENT,
                 person: Person | None = None) -> int:
    """A reply of ours in that inbox, which the provider accepted as `external_id`."""
    person = person or api.alice
    actor = person.actor
    with api.session() as session:
        own = session.get_one(Inbox, inbox.id)
        is_email = own.channel is ChannelKind.EMAIL
        contact = create_contact(session, actor, name="Dana Whitfield", identities=[
            (IdentityKind.EMAIL, "dana@example.com") if is_email
            else (IdentityKind.PHONE, "+14155550142")])
        conversation = open_conversation(session, own, contact, subject=None)
        reply = Message(account_id=actor.account_id, conversation_id=conversation.id,
                        inbox_id=own.id, direction=Direction.OUT, kind=MessageKind.MESSAGE,
                        author_agent_id=person.agent_id, text="On its way.", status=status,
                        external_id=external_id)
        session.add(reply)
        session.flush()
        return reply.id
