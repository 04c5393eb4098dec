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

Taking a webhook is cheap, because providers send many at once: the whole intake is one trip
to the threadpool, the inbox's receiver comes from the process's adapter cache (rebuilt when
the inbox's credentials change), and webhooks arriving together are stored together, in one
transaction (ingest/group_commit.py), before any of them is answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import State

from clientcontact.channels.base import RawRequest, Receiver, Recipient
from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.errors import (
    BadPayload,
    BadRequest,
    ConfigurationError,
    NotFound,
    Unauthenticated,
)
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import inbox_for_recipient, normalize_address
from clientcontact.ingest.group_commit import GroupCommit
from clientcontact.ingest.store import RawEvent, body_digest
from clientcontact.runtime import Runtime

log = logging.getLogger(__name__)

InboxFinder = Callable[[Session], Inbox]


@dataclass(frozen=True)
class ProviderCall:
    """A provider's request and the process it reached."""

    runtime: Runtime
    group_commit: GroupCommit
    request: RawRequest


async def read_provider_call(request: Request) -> ProviderCall:
    """The request as the provider sent it, with the public URL it called (PUBLIC_URL + path +
    query): Twilio signs that URL, not the one a proxy hands us. Async and free of other
    dependencies, so reading it costs no trip to the threadpool."""
    runtime: Runtime = request.app.state.runtime
    body = await request.body()  # RequestContext has already refused oversized bodies
    query = request.url.query
    url = runtime.settings.public_url + request.url.path + (f"?{query}" if query else "")
    return ProviderCall(runtime, _group_commit(request.app.state, runtime),
                        RawRequest(request.method, url, dict(request.headers), body, utcnow()))


def _group_commit(state: State, runtime: Runtime) -> GroupCommit:
    """The app's one GroupCommit, made on its first webhook (on the event loop: no race)."""
    if not hasattr(state, "group_commit"):
        state.group_commit = GroupCommit(runtime.factory)
    return state.group_commit


ProviderRequest = Annotated[ProviderCall, Depends(read_provider_call)]


def accept(call: ProviderCall, find_inbox: InboxFinder, endpoint: str) -> Response:
    """Find the inbox, verify with its own secret, store once with its handling job,
    acknowledge. The provider is answered only once the event is committed."""
    request = call.request
    with unit_of_work(call.runtime.factory) as session:
        inbox = find_inbox(session)
    receiver = _receiver(call.runtime, inbox, endpoint)
    try:
        receiver.verify(request)
    except Unauthenticated as exc:
        log.warning("refused %s webhook for inbox %s: %s", endpoint, inbox.id, exc.message)
        raise
    call.group_commit.store(RawEvent(inbox, endpoint, _external_id(receiver, request), request))
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


def accept_shared(call: ProviderCall, provider: str,
                  recipient: Callable[[RawRequest], Recipient]) -> Response:
    """A shared path: find the inbox from the payload (unverified), then verify with it."""
    named = recipient(call.request)
    return accept(call, lambda session: inbox_for(session, provider, named), "inbound")


def _receiver(runtime: Runtime, inbox: Inbox, endpoint: str) -> Receiver:
    """An inbox without the secret to verify a webhook has no such webhook: never accept-all."""
    try:
        receiver = runtime.adapter(inbox).receivers.get(endpoint)
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
