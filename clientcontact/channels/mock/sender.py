"""The mock provider: the embedded default. It sends nowhere and records what would have left,
so a newcomer can read the email or SMS in the dev outbox. It is a real adapter, exercised by the
same delivery path as the others.

A few recipients fail on purpose, after Twilio's magic test numbers, so failure handling can be
tried without a provider account.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from clientcontact.channels.base import (
    ChannelKind,
    ChannelStatus,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)

MAGIC_FAILURES: dict[str, PermanentFailure | TransientFailure] = {
    "+15005550001": PermanentFailure("The 'To' number is not a valid phone number.",
                                     code="21211"),
    "+15005550004": PermanentFailure("The recipient has unsubscribed (replied STOP).",
                                     code="21610"),
    "+15005550009": PermanentFailure("The 'To' number is not a mobile number.", code="21614"),
    "+15005550010": TransientFailure("Provider unavailable (simulated 503).", code="503"),
    "bounce@example.com": PermanentFailure("550 5.1.1 Mailbox does not exist", code="550"),
}

_write_lock = threading.Lock()


class MockSender:
    provider = "mock"

    def __init__(self, outbox_path: Path) -> None:
        self.outbox_path = outbox_path

    async def send(self, message: OutboundMessage) -> SendResult:
        failure = MAGIC_FAILURES.get(message.to)
        if failure is not None:
            raise failure
        external_id = f"mock-{uuid.uuid4().hex[:16]}"
        record = {
            "external_id": external_id,
            "channel": message.channel.value,
            **{k: v for k, v in asdict(message).items() if k not in ("channel", "attachments")},
            "attachments": [{"filename": a.filename, "content_type": a.content_type,
                             "size": len(a.data)} for a in message.attachments],
            "headers": email_headers(message) if message.channel is ChannelKind.EMAIL else {},
        }
        line = json.dumps(record, default=str)
        with _write_lock:
            self.outbox_path.parent.mkdir(parents=True, exist_ok=True)
            with self.outbox_path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        return SendResult(external_id=external_id, email_message_id=message.email_message_id)

    async def check(self) -> ChannelStatus:
        return ChannelStatus(configured=True, credentials_valid=None,
                             detail="mock provider: messages are recorded, not sent")


def email_headers(message: OutboundMessage) -> dict[str, str]:
    """The headers the customer's mail client would see."""
    sender = f"{message.from_name} <{message.from_address}>" if message.from_name else (
        message.from_address)
    headers = {
        "From": sender, "To": message.to, "Subject": message.subject or "",
        "Message-ID": message.email_message_id or "", "Reply-To": message.reply_to or "",
        "In-Reply-To": message.in_reply_to or "", "References": " ".join(message.references),
    }
    return {name: value for name, value in headers.items() if value}


def read_outbox(outbox_path: Path, account_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The newest recorded sends of one account, newest first."""
    if not outbox_path.exists():
        return []
    records = []
    with outbox_path.open(encoding="utf-8") as outbox:
        for line in outbox:
            record = json.loads(line)
            if record.get("account_id") == account_id:
                records.append(record)
    return records[::-1][:limit]

