"""HTTP routes providers call. Each is thin: say how to find the inbox, then `intake.accept`
verifies, stores raw, enqueues and acknowledges (see intake.py for which failures answer 2xx).

Per-inbox URLs carry the inbox's public key; the paths existing users know find the inbox from
the payload's recipient. Either way the request is verified with that one inbox's secret.
Routes are sync functions, so verification (an SNS certificate fetch) runs in the threadpool.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from clientcontact.channels.sendgrid.inbound_parse import SendGridInboundParse
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.twilio.inbound import TwilioInbound
from clientcontact.inboxes.service import inbox_for_public_key
from clientcontact.webhooks.intake import ProviderRequest, accept, accept_shared

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.post("/inboxes/{public_key}/{endpoint}")
def inbox_webhook(public_key: str, endpoint: str, call: ProviderRequest) -> Response:
    """`endpoint` is `inbound` (customers' messages) or `status` (our messages' statuses)."""
    return accept(call, lambda session: inbox_for_public_key(session, public_key), endpoint)


@router.post("/email/sendgrid")
def sendgrid_inbound_parse(call: ProviderRequest) -> Response:
    """Inbound Parse; the inbox is the SMTP envelope's recipient."""
    return accept_shared(call, "sendgrid", SendGridInboundParse.recipient)


@router.post("/email/ses")
def ses_notifications(call: ProviderRequest) -> Response:
    """SNS: received mail finds its inbox by recipient, a bounce or delivery by our sender.
    Subscription confirmations go to the inbox's own URL, which is unambiguous."""
    return accept_shared(call, "ses", SesInbound.recipient)


@router.post("/sms/twilio")
def twilio_messages(call: ProviderRequest) -> Response:
    """SMS, MMS and WhatsApp (a `whatsapp:` number means the WhatsApp inbox); also takes
    status callbacks, found by our number in `From`."""
    return accept_shared(call, "twilio", TwilioInbound.recipient)
