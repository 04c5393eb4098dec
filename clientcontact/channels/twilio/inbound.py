"""Receiving from Twilio: inbound SMS, MMS and WhatsApp messages, and status callbacks.

Both arrive as signed form posts. A message carries `SmsStatus=received`; a status callback
carries `MessageStatus`. What each status means for us is a table, and so is the wording an
agent sees for the carrier errors that actually happen.

https://www.twilio.com/docs/messaging/guides/webhook-request
https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping

from clientcontact.channels.base import (
    Acknowledgement,
    ChannelKind,
    DeliveryStatus,
    Ignored,
    InboundAttachment,
    InboundEvent,
    InboundMessage,
    RawRequest,
    Recipient,
    StatusUpdate,
)
from clientcontact.channels.twilio.signature import form_params, verify_twilio_signature
from clientcontact.errors import BadPayload

RECEIVED = "received"

# Callbacks arrive out of order and twice; delivery.apply_status only ever moves forward, so a
# late `queued` after `delivered` is harmless. `partially_delivered` (some segments or, for
# group MMS, some recipients got it) counts as delivered: the customer can read the message,
# and marking it failed would invite a duplicate resend.
STATUS_MAP: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENDING,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "partially_delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

HANDLED: frozenset[str] = frozenset({RECEIVED, *STATUS_MAP})

# Every status Twilio documents is handled; statuses it adds later arrive as Ignored (see parse).
IGNORED: dict[str, str] = {}

# The carrier and WhatsApp errors agents meet, in words they can act on.
# https://www.twilio.com/docs/api/errors
ERROR_TEXTS: dict[str, str] = {
    "30001": "Twilio's queue for this number overflowed; try again later.",
    "30002": "The Twilio account is suspended.",
    "30003": "The phone is switched off or out of coverage.",
    "30004": "The recipient blocked this message.",
    "30005": "The number does not exist or is no longer in service.",
    "30006": "The number is a landline or cannot receive text messages.",
    "30007": "The carrier filtered this message as spam.",
    "30008": "The carrier could not deliver this message (unknown error).",
    "30032": "This toll-free number is not verified for messaging.",
    "30034": "This number is not registered for US A2P 10DLC messaging.",
    "21610": "The recipient has unsubscribed (replied STOP).",
    "63003": "This number is not on WhatsApp.",
    "63016": "More than 24 hours since the customer last wrote: send an approved template.",
    "63024": "WhatsApp rejected the recipient as invalid.",
    "63032": "WhatsApp refused this message: the business is not allowed to message this user.",
    "63049": "WhatsApp (Meta) chose not to deliver this marketing message.",
}

WHATSAPP_PREFIX = "whatsapp:"
CANCELED_TEXT = "The message was canceled before it was sent."
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioInbound:
    """The receiving half of the Twilio adapter for one inbox, keyed by its auth token."""

    provider = "twilio"

    def __init__(self, auth_token: str) -> None:
        self._auth_token = auth_token

    def verify(self, request: RawRequest) -> None:
        verify_twilio_signature(request, self._auth_token)

    def external_id(self, request: RawRequest) -> str:
        """MessageSid for a message; MessageSid:status for a callback, so each step is kept."""
        form = _form(request)
        status = form.get("MessageStatus")
        return f"{form['MessageSid']}:{status}" if status else form["MessageSid"]

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        form = _form(request)
        event = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if event == RECEIVED:
            return [_message(form, request)]
        if event in STATUS_MAP:
            return [_status_update(form, STATUS_MAP[event], request)]
        if event in IGNORED:
            return [Ignored(f"twilio {event}: {IGNORED[event]}")]
        # A status Twilio introduced after this table: keep the raw row, move nothing.
        return [Ignored(f"unsupported Twilio status {event!r}")]

    @staticmethod
    def recipient(request: RawRequest) -> Recipient:
        """Our number: `To` of a message, `From` of a status callback; `whatsapp:` says which
        inbox of that number (for the shared path, before verifying)."""
        form = _form(request)
        ours = (form.get("From") if form.get("MessageStatus") else form.get("To")) or ""
        channel = ChannelKind.WHATSAPP if ours.startswith(WHATSAPP_PREFIX) else ChannelKind.SMS
        return Recipient(channel, (_address(ours),) if ours else ())

    def acknowledge(self, events: list[InboundEvent]) -> Acknowledgement:
        """Empty TwiML: Twilio sends no automatic reply and does not retry."""
        return Acknowledgement(200, EMPTY_TWIML, "text/xml")


def _form(request: RawRequest) -> dict[str, str]:
    params = form_params(request.body)
    form = {name: values[0] for name, values in params.items()}
    if not form.get("MessageSid"):
        raise BadPayload("Twilio webhook without MessageSid")
    return form


def _message(form: Mapping[str, str], request: RawRequest) -> InboundMessage:
    sender = form.get("From", "")
    if not sender:
        raise BadPayload("Twilio message without From")
    channel = ChannelKind.WHATSAPP if sender.startswith(WHATSAPP_PREFIX) else ChannelKind.SMS
    return InboundMessage(
        external_id=form["MessageSid"],
        channel=channel,
        sender=_address(sender),
        recipient=_address(form.get("To", "")),
        text=form.get("Body") or form.get("ButtonText") or _location(form),
        sender_name=form.get("ProfileName") or None,
        attachments=_media(form),
        # A WhatsApp reply quoting one of ours names that message's SID.
        in_reply_to=form.get("OriginalRepliedMessageSid") or None,
        occurred_at=request.received_at,
    )


def _address(value: str) -> str:
    return value.removeprefix(WHATSAPP_PREFIX)


def _location(form: Mapping[str, str]) -> str:
    """A shared WhatsApp location has no Body; show where it points instead of nothing."""
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if not (latitude and longitude):
        return ""
    label = form.get("Label") or form.get("Address")
    return f"Location: {latitude}, {longitude}" + (f" ({label})" if label else "")


def _media(form: Mapping[str, str]) -> tuple[InboundAttachment, ...]:
    """MediaUrlN / MediaContentTypeN; the files stay at Twilio until ingest fetches them."""
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError as exc:
        raise BadPayload(f"NumMedia is not a number: {form.get('NumMedia')!r}") from exc
    attachments = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if not url:
            raise BadPayload(f"NumMedia is {count} but MediaUrl{index} is missing")
        content_type = form.get(f"MediaContentType{index}") or "application/octet-stream"
        extension = mimetypes.guess_extension(content_type) or ".bin"
        attachments.append(
            InboundAttachment(
                filename=f"media-{index + 1}{extension}", content_type=content_type, url=url
            )
        )
    return tuple(attachments)


def _status_update(
    form: Mapping[str, str], status: DeliveryStatus, request: RawRequest
) -> StatusUpdate:
    code = form.get("ErrorCode") or None
    text = None
    if code:
        text = ERROR_TEXTS.get(code) or form.get("ErrorMessage") or f"Twilio error {code}."
    elif form.get("MessageStatus") == "canceled":
        text = CANCELED_TEXT
    return StatusUpdate(
        provider_message_id=form["MessageSid"],
        status=status,
        occurred_at=request.received_at,
        error_code=code,
        error_text=text,
    )


__all__ = ["ERROR_TEXTS", "HANDLED", "IGNORED", "STATUS_MAP", "TwilioInbound"]
