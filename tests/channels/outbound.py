"""The reply the email sender tests send, and how they send it: one place for all providers."""

from __future__ import annotations

import asyncio
from typing import Any

from clientcontact.channels.base import ChannelKind, OutboundMessage, Sender, SendResult

CUSTOMER_ID = "<CAF=customer-2@mail.example.org>"


def email_reply(**fields: Any) -> OutboundMessage:
    """An agent's answer to Ada's question about her order, threaded under her mail."""
    values: dict[str, Any] = dict(
        message_id=7,
        account_id=1,
        inbox_id=1,
        channel=ChannelKind.EMAIL,
        to="ada@example.org",
        to_name="Ada Lovelace",
        from_address="support@example.com",
        from_name="Example Support",
        subject="Re: Where is my order?",
        text="It shipped today.",
        reply_to="reply+t0k3n@support.example.com",
        email_message_id="<reply-7@example.com>",
        in_reply_to=CUSTOMER_ID,
        references=("<order-1@shop.example.com>", CUSTOMER_ID),
    )
    return OutboundMessage(**{**values, **fields})


def send(sender: Sender, message: OutboundMessage) -> SendResult:
    return asyncio.run(sender.send(message))
