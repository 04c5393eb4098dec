"""Webhooks of mock inboxes: a plain JSON post, so a demo can play the customer with curl.

A mock inbox has no secret to verify with, so its webhooks are refused unless the operator
set ACCEPT_UNSIGNED_MOCK_WEBHOOKS; the flag reaches only this receiver, never a real provider.

Inbound: `{"id": "m1", "from": "+14155550123", "to": "+15005550006", "text": "Hi",
"name": "Maria", "subject": null}`. Status: `{"id": "<our message's external id>",
"status": "delivered", "error": null}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clientcontact.channels.base import (
    Acknowledgement,
    ChannelKind,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    RawRequest,
    StatusUpdate,
)
from clientcontact.channels.json_payload import load_json
from clientcontact.errors import BadPayload, Unauthenticated


class MockReceiver:
    provider = "mock"

    def __init__(self, channel: ChannelKind, *, accept_unsigned: bool) -> None:
        self._channel = channel
        self._accept_unsigned = accept_unsigned

    def verify(self, request: RawRequest) -> None:
        if not self._accept_unsigned:
            raise Unauthenticated("mock webhooks are off (set ACCEPT_UNSIGNED_MOCK_WEBHOOKS)")

    def external_id(self, request: RawRequest) -> str:
        payload = _payload(request)
        status = payload.get("status")
        return f"{payload['id']}:{status}" if status else str(payload["id"])

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        payload = _payload(request)
        if payload.get("status"):
            try:
                status = DeliveryStatus(payload["status"])
            except ValueError as exc:
                raise BadPayload(f"unknown mock status {payload['status']!r}") from exc
            error = _text(payload, "error") or None
            return [StatusUpdate(str(payload["id"]), status, request.received_at,
                                 error_text=error)]
        return [InboundMessage(
            external_id=str(payload["id"]), channel=self._channel,
            sender=_text(payload, "from"), recipient=_text(payload, "to"),
            text=_text(payload, "text"), sender_name=_text(payload, "name") or None,
            subject=_text(payload, "subject") or None, occurred_at=request.received_at)]

    def acknowledge(self, events: list[InboundEvent]) -> Acknowledgement:
        return Acknowledgement(200, b"", "text/plain")


def _payload(request: RawRequest) -> Mapping[str, Any]:
    payload = load_json(request.body, "mock webhook body is not JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str | int):
        raise BadPayload("mock webhook body must be a JSON object with an id")
    return payload


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise BadPayload(f"mock webhook field {name!r} must be a string")
    return value or ""
