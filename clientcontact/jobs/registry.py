"""Every job kind and the function that runs it: one line each."""

from __future__ import annotations

from clientcontact.delivery.sending import send_message
from clientcontact.ingest.jobs import handle_inbound
from clientcontact.jobs.runner import Handler

HANDLERS: dict[str, Handler] = {
    "delivery.send": send_message,
    "ingest.handle": handle_inbound,
}
