"""The steps every provider webhook takes: read → verify → store raw → enqueue → acknowledge.

What a provider is answered, and whether it will try again:

| situation                                 | answer | provider retries? why                  |
|-------------------------------------------|--------|----------------------------------------|
| stored, or already stored (its retry)     | 2xx    | no: the raw row is safe                |
| verified, but fails to parse or route     | 2xx    | no: the row keeps it and its error for |
|                                           |        | replay-inbound; retrying cannot help   |
| signature missing or wrong                | 401    | yes, nothing stored: once the inbox's  |
|                                           |        | key is fixed, a genuine retry lands    |
| unknown inbox, or webhook not configured  | 404    | yes: lands once the inbox is set up    |
| too unreadable to pick or verify an inbox | 400    | (some do) nothing could be trusted     |
| body over MAX_REQUEST_BYTES               | 413    | no: it would not fit next time either  |
| our database down (unexpected error)      | 500    | yes: exactly when a retry helps        |

Parsing never happens in the request: a provider is never made to retry a payload it sent
correctly because of our bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from clientcontact.api.deps import AppRuntime
from clientcontact.channels.base import RawRequest, Receiver, Recipient
from clientcontact.channels.registry import AdapterContext, adapter_for
from clientcontact.db.base import utcnow
from clientcontact.errors import (
    BadPayload,
    BadRequest,
    ConfigurationError,
    NotFound,
    Unauthenticated,
)
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import inbox_for_recipient, normalize_address
from clientcontact.ingest.jobs import KIND, job_key
from clientcontact.ingest.store import body_digest, store_raw
from clientcontact.jobs.queue import enqueue

log = logging.getLogger(__name__)


async def read_provider_request(request: Request, runtime: AppRuntime) -> RawRequest:
    """The request as the provider sent it, with the public URL it called (PUBLIC_URL + path +
    query): Twilio signs that URL, not the one a proxy hands us."""
    body = await request.body()  # RequestContext has already refused oversized bodies
    query = request.url.query
    url = runtime.settings.public_url + request.url.path + (f"?{query}" if query else "")
    return RawRequest(request.method, url, dict(request.headers), body, utcnow())


ProviderRequest = Annotated[RawRequest, Depends(read_provider_request)]


def accept(session: Session, adapters: AdapterContext, inbox: Inbox, endpoint: str,
           request: RawRequest) -> Response:
    """Verify with this inbox's own secret, store once, enqueue handling, acknowledge."""
    receiver = _receiver(inbox, endpoint, adapters)
    try:
        receiver.verify(request)
    except Unauthenticated as exc:
        log.warning("refused %s webhook for inbox %s: %s", endpoint, inbox.id, exc.message)
        raise
    row = store_raw(session, inbox, endpoint, _external_id(receiver, request), request)
    if row is not None:
        enqueue(session, KIND, {"event_id": row.id}, account_id=inbox.account_id,
                key=job_key(row.id))
    ack = receiver.acknowledge([])
    return Response(ack.body, ack.status_code, media_type=ack.media_type)


def inbox_for(session: Session, provider: str, recipient: Recipient) -> Inbox:
    """The first of the candidate addresses that is an inbox of this provider."""
    for address in recipient.addresses:
        try:
            inbox = inbox_for_recipient(session, recipient.channel,
                                        normalize_address(recipient.channel, address))
        except (BadRequest, NotFound):
            continue
        if inbox.provider == provider:
            return inbox
    raise NotFound(f"no {provider} {recipient.channel} inbox receives at "
                   f"{', '.join(recipient.addresses) or 'an address this request names'}")


def accept_shared(session: Session, adapters: AdapterContext, provider: str,
                  recipient: Callable[[RawRequest], Recipient], request: RawRequest) -> Response:
    """A shared path: find the inbox from the payload (unverified), then verify with it."""
    inbox = inbox_for(session, provider, recipient(request))
    return accept(session, adapters, inbox, "inbound", request)


def _receiver(inbox: Inbox, endpoint: str, adapters: AdapterContext) -> Receiver:
    """An inbox without the secret to verify a webhook has no such webhook: never accept-all."""
    try:
        receiver = adapter_for(inbox, adapters).receivers.get(endpoint)
    except ConfigurationError as exc:
        log.warning("webhook for inbox %s is not configured: %s", inbox.id, exc)
        receiver = None
    if receiver is None:
        raise NotFound(f"this inbox takes no {endpoint!r} webhooks")
    return receiver


def _external_id(receiver: Receiver, request: RawRequest) -> str:
    """The provider's id; for a verified payload whose id cannot be read, its digest, so the
    row is still stored and its parse error shown."""
    try:
        return receiver.external_id(request)
    except BadPayload:
        return body_digest(request)
