"""HTTP routes providers call. Each is thin: say how to find the inbox, then `intake` verifies,
stores raw, enqueues and acknowledges (see intake.py for which failures answer 2xx).

Per-inbox URLs carry the inbox's public key; the paths existing users know find the inbox from
the payload's recipient. Either way the request is verified with that one inbox's secret.
Routes are async and hold no thread while their webhook waits for its batch's commit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from clientcontact.api.error_docs import error_responses
from clientcontact.channels.sendgrid.inbound_parse import SendGridInboundParse
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.twilio.inbound import TwilioInbound
from clientcontact.webhooks.intake import ByPublicKey, ByRecipient, ProviderRequest

# A payload we cannot read, a signature that does not verify, no inbox for it, too large.
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"],
                   responses=error_responses(400, 401, 404, 413))


@router.post("/inboxes/{public_key}/{endpoint}")
async def inbox_webhook(public_key: Annotated[str, Path(max_length=64)],
                        endpoint: Annotated[str, Path(max_length=20)],
                        call: ProviderRequest) -> Response:
    """`endpoint` is `inbound` (customers' messages) or `status` (our messages' statuses)."""
    return await call.accept(ByPublicKey(public_key), endpoint)


@router.post("/email/sendgrid")
async def sendgrid_inbound_parse(call: ProviderRequest) -> Response:
    """Inbound Parse; the inbox is the SMTP envelope's recipient."""
    recipient = SendGridInboundParse.recipient(call.request)
    return await call.accept(ByRecipient.of("sendgrid", recipient))


@router.post("/email/ses")
async def ses_notifications(call: ProviderRequest) -> Response:
    """SNS: received mail finds its inbox by recipient, a bounce or delivery by our sender.
    Subscription confirmations go to the inbox's own URL, which is unambiguous."""
    return await call.accept(ByRecipient.of("ses", SesInbound.recipient(call.request)))


@router.post("/sms/twilio")
async def twilio_messages(call: ProviderRequest) -> Response:
    """SMS, MMS and WhatsApp (a `whatsapp:` number means the WhatsApp inbox); also takes
    status callbacks, found by our number in `From`."""
    return await call.accept(ByRecipient.of("twilio", TwilioInbound.recipient(call.request)))
