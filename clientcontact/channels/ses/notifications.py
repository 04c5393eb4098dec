"""Receiving from Amazon SES through SNS: inbound mail, and what happened to mail we sent.

Everything arrives as a signed SNS envelope whose `Message` is SES's own JSON. A `Received`
notification carries the whole MIME message (receipt rule with an SNS action); `Bounce`,
`Complaint` and `Delivery` are keyed by `mail.messageId`, the id SES returned when we sent.
Both identity notifications (`notificationType`) and configuration-set events (`eventType`) use
the same shapes.

https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import httpx

from clientcontact.channels.base import (
    Acknowledgement,
    ChannelKind,
    DeliveryStatus,
    Ignored,
    InboundEvent,
    RawRequest,
    Recipient,
    StatusUpdate,
)
from clientcontact.channels.email_mime import inbound_message_from_mime
from clientcontact.channels.json_payload import load_json
from clientcontact.channels.ses.sns import (
    SnsVerifier,
    SubscriptionConfirmation,
    confirm_subscription,
    read_envelope,
)
from clientcontact.errors import BadPayload, Unauthenticated

SesEvent = InboundEvent | SubscriptionConfirmation
Notification = Mapping[str, Any]

# A Transient bounce is not a failure: SES may still deliver, and vacation auto-replies arrive
# as Transient/General bounces. Undetermined means SES could not tell; count it as failed.
FAILED_BOUNCE_TYPES = frozenset({"Permanent", "Undetermined"})

IGNORED: dict[str, str] = {
    "UnsubscribeConfirmation": "the SNS subscription was removed",
    # About the recipient, not the message: SES adds them to the account's suppression list.
    "Complaint": "the recipient marked the message as spam",
}

CONTENT_DECODERS: dict[str, Callable[[str], bytes]] = {
    "UTF8": lambda content: content.encode("utf-8"),
    "BASE64": lambda content: base64.b64decode(content, validate=True),
}


class SesInbound:
    """The receiving half of the SES adapter for one inbox.

    `topic_arn` pins the SNS topic this inbox listens to: anyone can create a topic that SNS
    signs validly, so an unpinned inbox accepts nothing. `cert_verifier` is shared per process.
    """

    provider = "ses"

    def __init__(self, topic_arn: str | None, cert_verifier: SnsVerifier) -> None:
        self._topic_arn = topic_arn
        self._verifier = cert_verifier

    def verify(self, request: RawRequest) -> None:
        envelope = read_envelope(request.body)
        if not self._topic_arn:
            raise Unauthenticated("this inbox has no SNS TopicArn pinned")
        if envelope.get("TopicArn") != self._topic_arn:
            raise Unauthenticated("SNS TopicArn is not the one this inbox expects")
        self._verifier.verify(envelope)

    def external_id(self, request: RawRequest) -> str:
        """SNS MessageId: the same for every retry of one notification."""
        return read_envelope(request.body)["MessageId"]

    def parse(self, request: RawRequest) -> list[SesEvent]:
        envelope = read_envelope(request.body)
        kind = envelope["Type"]
        if kind == "SubscriptionConfirmation":
            return [_subscription(envelope)]
        if kind in IGNORED:
            return [Ignored(f"sns {kind}: {IGNORED[kind]}")]
        notification = _notification(envelope)
        name = notification.get("notificationType") or notification.get("eventType")
        handler = HANDLERS.get(name) if isinstance(name, str) else None
        if handler is not None:
            return [handler(notification)]
        if name in IGNORED:
            return [Ignored(f"ses {name}: {IGNORED[name]}")]
        return [Ignored(f"unsupported SES notification {name!r}")]

    @staticmethod
    def recipient(request: RawRequest) -> Recipient:
        """Our address, for the shared path before verifying: where received mail was delivered,
        or the sender of the mail of ours a notification is about. An SNS confirmation names
        none; it is confirmed through the inbox's own webhook URL."""
        envelope = read_envelope(request.body)
        if envelope["Type"] != "Notification":
            return Recipient(ChannelKind.EMAIL, ())
        notification = _notification(envelope)
        receipt = notification.get("receipt")
        mail = _object(notification, "mail", required=False)
        if isinstance(receipt, dict):
            candidates = [*_listed(receipt.get("recipients")), *_listed(mail.get("destination"))]
        else:
            candidates = _listed([mail.get("source")])
        addresses = (parseaddr(c)[1] for c in candidates)
        return Recipient(ChannelKind.EMAIL, tuple(dict.fromkeys(a for a in addresses if a)))

    def acknowledge(self, events: list[SesEvent]) -> Acknowledgement:
        return Acknowledgement(200, b"", "text/plain")

    def confirm_subscription(self, request: RawRequest, client: httpx.Client | None = None) -> None:
        """Confirm the subscription a stored SubscriptionConfirmation asks for, re-verified."""
        if not self._topic_arn:
            raise Unauthenticated("this inbox has no SNS TopicArn pinned")
        confirm_subscription(
            read_envelope(request.body),
            self._verifier,
            expected_topic_arn=self._topic_arn,
            client=client,
        )


def _subscription(envelope: Mapping[str, Any]) -> SubscriptionConfirmation:
    url, token = envelope.get("SubscribeURL"), envelope.get("Token")
    if not isinstance(url, str) or not isinstance(token, str):
        raise BadPayload("SNS SubscriptionConfirmation without SubscribeURL or Token")
    return SubscriptionConfirmation(envelope["TopicArn"], url, token)


def _notification(envelope: Mapping[str, Any]) -> Notification:
    message = load_json(envelope.get("Message") or "", "SNS Message is not SES JSON")
    if not isinstance(message, dict):
        raise BadPayload("SNS Message is not a JSON object")
    return message


def _received(notification: Notification) -> InboundEvent:
    receipt = _object(notification, "receipt")
    if _object(receipt, "virusVerdict", required=False).get("status") == "FAIL":
        return Ignored("quarantined: virus")
    action = _object(receipt, "action")
    if action.get("type") != "SNS":
        # The S3 action leaves the mail in a bucket: fail loudly so the raw row stays visible.
        raise BadPayload(f"SES receipt action {action.get('type')!r} is not supported yet")
    decode = CONTENT_DECODERS.get(str(action.get("encoding", "UTF8")).upper())
    content = notification.get("content")
    if decode is None or not isinstance(content, str):
        raise BadPayload("SES Received notification without content in UTF8 or BASE64")
    try:
        raw = decode(content)
    except (binascii.Error, ValueError) as exc:
        raise BadPayload(f"SES content is not valid {action.get('encoding')}") from exc
    recipients = receipt.get("recipients") or []
    return inbound_message_from_mime(raw, recipient=recipients[0] if recipients else None)


def _bounce(notification: Notification) -> InboundEvent:
    bounce = _object(notification, "bounce")
    kind = bounce.get("bounceType")
    recipients = [r for r in bounce.get("bouncedRecipients") or [] if isinstance(r, dict)]
    reasons = [r.get("diagnosticCode") or r.get("status") or "" for r in recipients]
    text = "; ".join(filter(None, reasons)) or f"{kind} bounce ({bounce.get('bounceSubType')})"
    if kind not in FAILED_BOUNCE_TYPES:
        return Ignored(f"ses transient bounce ({bounce.get('bounceSubType')}): {text}")
    return StatusUpdate(
        provider_message_id=_message_id(notification),
        status=DeliveryStatus.FAILED,
        occurred_at=_timestamp(bounce.get("timestamp")),
        error_code=next((r["status"] for r in recipients if r.get("status")), None),
        error_text=text,
    )


def _delivery(notification: Notification) -> InboundEvent:
    delivery = _object(notification, "delivery")
    return StatusUpdate(
        provider_message_id=_message_id(notification),
        status=DeliveryStatus.DELIVERED,
        occurred_at=_timestamp(delivery.get("timestamp")),
    )


HANDLERS: dict[str, Callable[[Notification], InboundEvent]] = {
    "Received": _received,
    "Bounce": _bounce,
    "Delivery": _delivery,
}

HANDLED: frozenset[str] = frozenset({"SubscriptionConfirmation", *HANDLERS})


def _object(parent: Mapping[str, Any], name: str, *, required: bool = True) -> Mapping[str, Any]:
    value = parent.get(name)
    if isinstance(value, dict):
        return value
    if value is None and not required:
        return {}
    raise BadPayload(f"SES notification without a {name!r} object")


def _listed(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _message_id(notification: Notification) -> str:
    message_id = _object(notification, "mail").get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise BadPayload("SES notification without mail.messageId")
    return message_id


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


__all__ = ["HANDLED", "IGNORED", "SesInbound"]
