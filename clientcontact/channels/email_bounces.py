"""Delivery status notifications (RFC 3464): which of our messages bounced, for whom, and why."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser, HeaderParser

from clientcontact.channels.email_headers import first, message_ids, raw_header


@dataclass(frozen=True)
class RecipientStatus:
    final_recipient: str | None
    action: str | None  # failed, delayed, delivered, relayed, expanded
    status: str | None  # e.g. "5.1.1"
    diagnostic_code: str | None


@dataclass(frozen=True)
class BounceInfo:
    recipients: tuple[RecipientStatus, ...]
    original_message_id: str | None  # "<id>" of our message that bounced, when quoted back

    @property
    def action(self) -> str | None:
        return self.recipients[0].action if self.recipients else None

    @property
    def status(self) -> str | None:
        return self.recipients[0].status if self.recipients else None

    @property
    def diagnostic_code(self) -> str | None:
        return self.recipients[0].diagnostic_code if self.recipients else None

    @property
    def final_recipient(self) -> str | None:
        return self.recipients[0].final_recipient if self.recipients else None

    @property
    def permanent(self) -> bool:
        return any(
            r.action == "failed" or (r.status or "").startswith("5") for r in self.recipients
        )


def is_delivery_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == "delivery-status"
    )


def bounce_info(msg: Message) -> BounceInfo | None:
    """The RFC 3464 facts of a multipart/report delivery-status mail, or None for other mail."""
    try:
        if not is_delivery_report(msg) or not msg.is_multipart():
            return None
        recipients: list[RecipientStatus] = []
        original: str | None = None
        for part in msg.get_payload():
            kind = part.get_content_type()
            if kind == "message/delivery-status":
                recipients.extend(_recipient_statuses(part))
            elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
                original = _original_message_id(part)
        if not recipients:  # an empty delivery-status part: Gmail still names the address
            recipients = _failed_recipients_header(msg)
        return BounceInfo(tuple(recipients), original)
    except Exception:  # a report we cannot read is still a message; never fail the mail
        return None


def _recipient_statuses(part: Message) -> list[RecipientStatus]:
    blocks = part.get_payload()
    if isinstance(blocks, str):  # the stdlib could not split it: parse the text ourselves
        blocks = [HeaderParser().parsestr(chunk) for chunk in blocks.split("\n\n")]
    statuses = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:  # block 0 is per-message
        if not any(raw_header(block, f) for f in ("final-recipient", "action", "status")):
            continue
        statuses.append(
            RecipientStatus(
                final_recipient=_typed_value(raw_header(block, "final-recipient")),
                action=_clean(raw_header(block, "action"), lower=True),
                status=_clean(raw_header(block, "status")),
                diagnostic_code=_typed_value(raw_header(block, "diagnostic-code")),
            )
        )
    return statuses


def _failed_recipients_header(msg: Message) -> list[RecipientStatus]:
    value = raw_header(msg, "x-failed-recipients") or ""
    return [
        RecipientStatus(
            final_recipient=a.strip(), action="failed", status=None, diagnostic_code=None
        )
        for a in value.split(",")
        if a.strip()
    ]


def _original_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return first(message_ids(raw_header(payload[0], "message-id")))
    data = part.get_payload(decode=True) or b""
    headers = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    return first(message_ids(raw_header(headers, "message-id")))


def _typed_value(value: str | None) -> str | None:
    """The address without its type: "rfc822; bob@example.com" -> "bob@example.com"."""
    if not value:
        return None
    _, _, rest = value.partition(";")
    return _clean((rest or value).strip().strip("<>"))


def _clean(value: str | None, *, lower: bool = False) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return (text.lower() if lower else text) or None
