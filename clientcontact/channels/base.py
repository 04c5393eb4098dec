"""The one interface every provider sits behind, and the value types that cross it.

Adapters are built per inbox from that inbox's own credentials. `parse` and `verify` are pure
(no database), `send` never touches the database: everything a provider says arrives as an
event, everything we say leaves as an `OutboundMessage`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ChannelKind(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


# Statuses only move forward along this order; FAILED is final unless an agent retries.
STATUS_ORDER: dict[DeliveryStatus, int] = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
    DeliveryStatus.FAILED: 5,
}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class WhatsAppTemplate:
    """An approved WhatsApp template: the only thing allowed outside the 24-hour window."""

    content_sid: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    """Everything an adapter needs to deliver one message; built by delivery from our rows."""

    message_id: int
    account_id: int
    inbox_id: int
    channel: ChannelKind
    to: str  # an email address, or an E.164 number
    from_address: str  # the inbox's address or number
    text: str
    to_name: str | None = None
    from_name: str | None = None
    cc: tuple[str, ...] = ()
    subject: str | None = None
    html: str | None = None
    reply_to: str | None = None
    email_message_id: str | None = None  # our Message-ID, "<…@…>"
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    media_urls: tuple[str, ...] = ()
    status_callback_url: str | None = None
    template: WhatsAppTemplate | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str
    # The Message-ID the customer's mail client will see; differs from ours when the provider
    # rewrites it (SES), and threading by In-Reply-To depends on storing this one.
    email_message_id: str | None = None


class DeliveryFailure(Exception):
    """A send that did not go through, with the provider's own code and words."""

    def __init__(self, text: str, *, code: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class TransientFailure(DeliveryFailure):
    """Worth retrying: timeouts, connection errors, 5xx, rate limits."""

    def __init__(
        self, text: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(text, code=code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Retrying will not help (invalid number, unsubscribed, rejected): the agent must act."""


@dataclass(frozen=True)
class ChannelStatus:
    configured: bool
    credentials_valid: bool | None  # None: not checked (e.g. mock)
    detail: str = ""


@dataclass(frozen=True)
class RawRequest:
    """An inbound HTTP request as the provider sent it, before we trust any of it."""

    method: str
    url: str  # the public URL the provider called (PUBLIC_URL + path + query)
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    received_at: datetime | None = None


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes | None = None  # None when only a URL is known yet (Twilio media)
    url: str | None = None
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class InboundMessage:
    external_id: str
    channel: ChannelKind
    sender: str  # email address or E.164 number
    recipient: str
    text: str
    sender_name: str | None = None
    subject: str | None = None
    html: str | None = None
    original: bytes | None = None  # raw MIME for email
    email_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    auto_submitted: bool = False
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime | None = None
    error_code: str | None = None
    error_text: str | None = None


@dataclass(frozen=True)
class Ignored:
    reason: str


InboundEvent = InboundMessage | StatusUpdate | Ignored


@dataclass(frozen=True)
class Recipient:
    """Which of our addresses a request on a shared webhook path is for, read before it is
    verified (so only ever used to pick the inbox whose secret then verifies it)."""

    channel: ChannelKind
    addresses: tuple[str, ...]  # candidates, best first


@dataclass(frozen=True)
class Acknowledgement:
    status_code: int = 200
    body: bytes = b""
    media_type: str = "text/plain"


class Receiver(Protocol):
    """One webhook a provider calls (inbound messages, or delivery statuses)."""

    def verify(self, request: RawRequest) -> None:
        """Raise Unauthenticated unless the request provably comes from the provider."""

    def external_id(self, request: RawRequest) -> str:
        """The provider's id for this request: the idempotency key of ingest."""

    def parse(self, request: RawRequest) -> Sequence[object]:
        """Turn a provider payload into our events, with no database access."""

    def acknowledge(self, events: Sequence[object]) -> Acknowledgement:
        """The answer the provider expects (e.g. empty TwiML)."""


class Sender(Protocol):
    provider: str

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; raise TransientFailure or PermanentFailure."""

    async def check(self) -> ChannelStatus:
        """One cheap authenticated call: are the credentials good?"""


INBOUND = "inbound"  # the webhook that brings customers' messages
STATUS = "status"  # the webhook that brings delivery statuses of our messages


@dataclass(frozen=True)
class ChannelAdapter:
    """A provider as one inbox uses it: how we send, and the webhooks it calls us on."""

    kind: ChannelKind
    provider: str
    sender: Sender
    receivers: Mapping[str, Receiver] = field(default_factory=dict)

    async def send(self, message: OutboundMessage) -> SendResult:
        return await self.sender.send(message)

    async def check(self) -> ChannelStatus:
        return await self.sender.check()
