"""The steps every provider webhook takes: read → find the inbox → verify → store raw → enqueue
→ acknowledge.

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

Taking a webhook is cheap, because providers send many at once. The request stays on the event
loop: no threadpool thread per webhook. Webhooks arriving together are taken together by the
process's one writer thread (ingest/group_commit.py): in one transaction it finds each inbox
(once per batch for webhooks to the same one), verifies each request with its inbox's own
secret, stores the genuine ones with their handling jobs and commits; only then is each
answered. The inbox row is read fresh for every batch, so a changed secret counts at once, on
every server. Verifying is local work, except that an SNS signing certificate may have to be
fetched first: that happens in a thread before the request joins a batch, so a batch never
waits on the network.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from clientcontact.channels.base import (
    Acknowledgement,
    ChannelKind,
    RawRequest,
    Receiver,
    Recipient,
)
from clientcontact.channels.ses.sns import MESSAGE_TYPE_HEADER
from clientcontact.db.base import utcnow
from clientcontact.errors import (
    BadPayload,
    BadRequest,
    ClientContactError,
    ConfigurationError,
    NotFound,
    Unauthenticated,
)
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import (
    inbox_for_public_key,
    inbox_for_recipient,
    normalize_address,
)
from clientcontact.ingest.group_commit import GroupCommit
from clientcontact.ingest.jobs import KIND
from clientcontact.ingest.store import RawEvent, body_digest, store_raw_many
from clientcontact.jobs.queue import enqueue_many
from clientcontact.runtime import Runtime
from clientcontact.webhooks.redaction import redacted

log = logging.getLogger(__name__)

# Public keys are made by inboxes/service.py (hex); any URL-safe token up to the column's size.
PUBLIC_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class ByPublicKey:
    """A per-inbox webhook URL names its inbox by the public key in the path. A key that no
    inbox can have (a NUL, a control character, anything but a URL-safe token) is refused as
    the request is read: it never reaches a query, where PostgreSQL would refuse it and fail
    every webhook written with it."""

    public_key: str

    def __post_init__(self) -> None:
        if not PUBLIC_KEY.fullmatch(self.public_key):
            raise NotFound("no inbox has this webhook URL")

    def find(self, session: Session) -> Inbox:
        return inbox_for_public_key(session, self.public_key)


@dataclass(frozen=True)
class ByRecipient:
    """A shared path names our address in the payload (unverified): the first candidate
    address that is an inbox of this provider. Candidates are normalized as the request is
    read (`of`), so only valid addresses ever reach a query, or an error message."""

    provider: str
    channel: ChannelKind
    addresses: tuple[str, ...]

    @classmethod
    def of(cls, provider: str, recipient: Recipient) -> ByRecipient:
        normalized = []
        for address in recipient.addresses:
            with contextlib.suppress(BadRequest):
                normalized.append(normalize_address(recipient.channel, address))
        return cls(provider, recipient.channel, tuple(dict.fromkeys(normalized)))

    def find(self, session: Session) -> Inbox:
        for address in self.addresses:
            try:
                inbox = inbox_for_recipient(session, self.channel, address)
            except NotFound:
                continue
            if inbox.provider == self.provider:
                return inbox
        raise NotFound(f"no {self.provider} {self.channel} inbox receives at "
                       f"{', '.join(self.addresses) or 'a valid address this request names'}")


InboxLocator = ByPublicKey | ByRecipient


@dataclass(frozen=True)
class Arrival:
    """A provider's request, with how to find the inbox it is for and which webhook it is."""

    locator: InboxLocator
    endpoint: str
    request: RawRequest


class Intake:
    """The process's webhook intake: every provider's webhooks share its one writer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._writer: GroupCommit[Arrival, Acknowledgement] = GroupCommit(
            runtime.factory, self._take)

    async def accept(self, arrival: Arrival) -> Response:
        """Answered only once the event is committed (or found stored already)."""
        if MESSAGE_TYPE_HEADER in arrival.request.headers:
            await run_in_threadpool(self.runtime.adapters.sns_verifier.prefetch,
                                    arrival.request.body)
        ack = await self._writer.submit(arrival)
        return Response(ack.body, ack.status_code, media_type=ack.media_type)

    def close(self) -> None:
        self._writer.close()

    def _take(self, session: Session,
              arrivals: Sequence[Arrival]) -> list[Acknowledgement | Exception]:
        """The writer's batch: each arrival verified with its inbox's secret, the genuine
        ones stored with their jobs; the refused ones get their own error."""
        inboxes: dict[InboxLocator, Inbox | ClientContactError] = {}
        events: list[RawEvent] = []
        answers: list[Acknowledgement | Exception] = []
        for arrival in arrivals:
            try:
                inbox = _found(inboxes, arrival.locator, session)
                receiver = self._verified_by(inbox, arrival)
            except ClientContactError as refusal:
                answers.append(refusal)
                continue
            events.append(RawEvent(inbox, arrival.endpoint,
                                   _external_id(receiver, arrival.request),
                                   redacted(arrival.request)))  # verified: secrets are done
            answers.append(receiver.acknowledge([]))
        new = store_raw_many(session, events) if events else []
        enqueue_many(session, KIND, [({"event_id": event_id}, account_id)
                                     for event_id, account_id in new])
        return answers

    def _verified_by(self, inbox: Inbox, arrival: Arrival) -> Receiver:
        """The inbox's receiver for this webhook, once it has verified the request. An inbox
        without the secret to verify a webhook has no such webhook: never accept-all."""
        try:
            receiver = self.runtime.adapter(inbox).receivers.get(arrival.endpoint)
        except ConfigurationError as exc:
            log.warning("webhook for inbox %s is not configured: %s", inbox.id, exc)
            receiver = None
        if receiver is None:
            raise NotFound(f"this inbox takes no {arrival.endpoint!r} webhooks")
        try:
            receiver.verify(arrival.request)
        except Unauthenticated as exc:
            log.warning("refused %s webhook for inbox %s: %s", arrival.endpoint, inbox.id,
                        exc.message)
            raise
        return receiver


def _found(inboxes: dict[InboxLocator, Inbox | ClientContactError], locator: InboxLocator,
           session: Session) -> Inbox:
    """Each inbox is looked up once per batch; so is its absence."""
    if locator not in inboxes:
        try:
            inboxes[locator] = locator.find(session)
        except ClientContactError as refusal:
            inboxes[locator] = refusal
    found = inboxes[locator]
    if isinstance(found, ClientContactError):
        raise found
    return found


def _external_id(receiver: Receiver, request: RawRequest) -> str:
    """The provider's id; for a verified payload whose id cannot be read, its digest, so the
    row is still stored and its parse error shown."""
    try:
        return receiver.external_id(request)
    except BadPayload:
        return body_digest(request)


@dataclass(frozen=True)
class ProviderCall:
    """A provider's request and the intake of the process it reached."""

    intake: Intake
    request: RawRequest

    async def accept(self, locator: InboxLocator, endpoint: str = "inbound") -> Response:
        return await self.intake.accept(Arrival(locator, endpoint, self.request))


async def read_provider_call(request: Request) -> ProviderCall:
    """The request as the provider sent it, with the public URL it called (PUBLIC_URL + path +
    query): Twilio signs that URL, not the one a proxy hands us."""
    intake: Intake = request.app.state.intake
    body = await request.body()  # RequestContext has already refused oversized bodies
    query = request.url.query
    url = intake.runtime.settings.public_url + request.url.path + (f"?{query}" if query else "")
    return ProviderCall(intake, RawRequest(request.method, url, dict(request.headers), body,
                                           utcnow()))


ProviderRequest = Annotated[ProviderCall, Depends(read_provider_call)]
