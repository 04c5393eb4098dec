"""Every job kind and the function that runs it: one line each."""

from __future__ import annotations

from clientcontact.delivery.sending import send_messages
from clientcontact.ingest import media_retry
from clientcontact.ingest.jobs import handle_inbound
from clientcontact.jobs.runner import BatchHandler, Handler

HANDLERS: dict[str, Handler] = {
    media_retry.KIND: media_retry.retry_missing_media,
}
# Kinds worked a claimed batch at a time (a few statements per batch, not per job).
BATCH_HANDLERS: dict[str, BatchHandler] = {
    "delivery.send": send_messages,
    "ingest.handle": handle_inbound,
}
