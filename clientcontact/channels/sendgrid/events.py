"""SendGrid's Event Webhook: a signed JSON array of delivery events for many messages at once.

Each event names the send by `sg_message_id`, whose part before the first "." is the
`X-Message-Id` our sender stored as the message's external id. What each event means for the
message is a table; events about the recipient rather than the message are Ignored with the
reason, so the raw batch still records them.

https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from clientcontact.channels.base import (
    Acknowledgement,
    DeliveryStatus,
    Ignored,
    InboundEvent,
    RawRequest,
    StatusUpdate,
)
from clientcontact.channels.json_payload import load_json
from clientcontact.channels.sendgrid.signature import Clock, SignedWebhookVerifier, utc_now
from clientcontact.errors import BadPayload

# `processed` means SendGrid accepted the send, which our sender already recorded as sent.
# A click proves the message was opened even when open tracking missed it (images blocked).
STATUS_MAP: dict[str, DeliveryStatus] = {
    "processed": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "open": DeliveryStatus.READ,
    "click": DeliveryStatus.READ,
    "bounce": DeliveryStatus.FAILED,
    "dropped": DeliveryStatus.FAILED,
}

HANDLED: frozenset[str] = frozenset(STATUS_MAP)

IGNORED: dict[str, str] = {
    # SendGrid keeps retrying for up to 72 hours; a delivered, bounce or dropped event follows.
    "deferred": "the receiving server asked SendGrid to retry later",
    # About the recipient, not this message: SendGrid suppresses future mail itself.
    "spamreport": "the recipient marked the message as spam",
    "unsubscribe": "the recipient unsubscribed",
    "group_unsubscribe": "the recipient unsubscribed from a suppression group",
    "group_resubscribe": "the recipient resubscribed to a suppression group",
}

# What an agent reads when SendGrid gives no reason of its own.
DEFAULT_ERROR_TEXTS: dict[str, str] = {
    "bounce": "The receiving server rejected the message.",
    "dropped": "SendGrid did not send the message.",
}


class SendGridEvents:
    """The Event Webhook of one SendGrid account, verified with its signing key."""

    provider = "sendgrid"

    def __init__(self, verification_key: str, *, clock: Clock = utc_now) -> None:
        self._verifier = SignedWebhookVerifier(verification_key, clock=clock)

    def verify(self, request: RawRequest) -> None:
        self._verifier.verify(request)

    def external_id(self, request: RawRequest) -> str:
        """A digest of the batch: it holds many sg_event_ids, and a retry repeats it verbatim."""
        return "sha256:" + hashlib.sha256(request.body).hexdigest()

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        return [_event(item, index) for index, item in enumerate(_batch(request.body))]

    def acknowledge(self, events: list[InboundEvent]) -> Acknowledgement:
        return Acknowledgement(200, b"", "text/plain")


def _batch(body: bytes) -> list[Mapping[str, Any]]:
    batch = load_json(body, "SendGrid events are not JSON")
    if not isinstance(batch, list) or not all(isinstance(item, dict) for item in batch):
        raise BadPayload("SendGrid events must be a JSON array of objects")
    return batch


def _event(item: Mapping[str, Any], index: int) -> InboundEvent:
    name = item.get("event")
    if not isinstance(name, str):
        raise BadPayload(f"SendGrid event {index} has no event name")
    if name in IGNORED:
        return Ignored(f"sendgrid {name}: {IGNORED[name]} ({item.get('email', 'unknown')})")
    if name not in STATUS_MAP:
        return Ignored(f"unsupported SendGrid event {name!r}")
    status = STATUS_MAP[name]
    failed = status is DeliveryStatus.FAILED
    return StatusUpdate(
        provider_message_id=_message_id(item, index),
        status=status,
        occurred_at=_timestamp(item, index),
        error_code=_text(item.get("status")) if failed else None,
        error_text=(_text(item.get("reason")) or DEFAULT_ERROR_TEXTS[name]) if failed else None,
    )


def _message_id(item: Mapping[str, Any], index: int) -> str:
    """The X-Message-Id of the send: `sg_message_id` up to its first "."."""
    value = item.get("sg_message_id")
    if not isinstance(value, str) or not value.split(".")[0]:
        raise BadPayload(f"SendGrid {item.get('event')} event {index} has no sg_message_id")
    return value.split(".")[0]


def _timestamp(item: Mapping[str, Any], index: int) -> datetime:
    try:
        return datetime.fromtimestamp(int(item["timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadPayload(f"SendGrid event {index} has no valid unix timestamp") from exc


def _text(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


__all__ = ["HANDLED", "IGNORED", "STATUS_MAP", "SendGridEvents"]
