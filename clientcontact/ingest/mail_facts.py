"""What routing needs from the raw mail beyond the channel-neutral event, read once.

`InboundMessage` carries what every channel has. Mail also says who it was really delivered to
(Delivered-To, X-Original-To, a forwarder's X-Forwarded-For), who wrote it before a Reply-To
took over, and whether it is a delivery report about one of our own messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from clientcontact.channels.base import ChannelKind, InboundMessage
from clientcontact.channels.email_bounces import BounceInfo, bounce_info
from clientcontact.channels.email_headers import addresses, first
from clientcontact.channels.email_mime import parse_message
from clientcontact.errors import BadPayload

# Headers where mail servers and forwarders keep the address a mail was delivered to; our
# reply address survives here when a customer's client rewrote To or sent it on as a forward.
ENVELOPE_HEADERS = frozenset({
    "delivered-to", "x-original-to", "x-forwarded-for", "x-forwarded-to", "envelope-to",
    "x-envelope-to", "x-rcpt-to", "resent-to",
})  # fmt: skip


@dataclass(frozen=True)
class MailFacts:
    envelope: tuple[str, ...] = ()  # raw values of ENVELOPE_HEADERS, in order
    from_address: str | None = None  # From alone, before Reply-To / X-Original-Sender
    bounce: BounceInfo | None = None


NO_MAIL_FACTS = MailFacts()


def mail_facts(event: InboundMessage) -> MailFacts:
    """The facts of an email's raw bytes; empty for other channels or mail we cannot read."""
    if event.channel is not ChannelKind.EMAIL or not event.original:
        return NO_MAIL_FACTS
    try:
        msg = parse_message(event.original)
    except BadPayload:
        return NO_MAIL_FACTS
    envelope = tuple(
        str(value) for key, value in msg.raw_items() if key.strip().lower() in ENVELOPE_HEADERS
    )
    return MailFacts(
        envelope=envelope,
        from_address=first([address for _, address in addresses(msg, "from")]),
        bounce=bounce_info(msg),
    )
