"""Store raw first: an authenticated provider request is saved as received, once.

The unique key (inbox, endpoint, external id) is what makes ingest idempotent: a provider's
retry, or the same request arriving twice at once, finds the key taken and stores nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clientcontact.channels.base import RawRequest
from clientcontact.db.base import utcnow
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.models import InboundEventRow

EXTERNAL_ID_LENGTH = 255
# The INSERT that can skip a taken key, per database.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_EVENTS = InboundEventRow.__table__


@dataclass(frozen=True)
class RawEvent:
    """A verified provider request, ready to store for its inbox."""

    inbox: Inbox
    endpoint: str
    external_id: str
    request: RawRequest


def store_raw_many(session: Session, events: Sequence[RawEvent]) -> list[tuple[int, int]]:
    """(id, account id) of each new row; an event whose key is already stored, or appears
    earlier in `events`, adds none.

    `INSERT … ON CONFLICT DO NOTHING`: a concurrent twin finds the key taken and inserts
    nothing, without an error that would roll back the caller's transaction. Sent as one
    statement with many rows, compiled once whatever the batch's size.
    """
    if not events:
        return []
    insert = INSERTS[session.get_bind().dialect.name](_EVENTS)
    rows = session.execute(insert.on_conflict_do_nothing()
                           .returning(_EVENTS.c.id, _EVENTS.c.account_id),
                           [_values(event) for event in events])
    return [(event_id, account_id) for event_id, account_id in rows]


def _values(event: RawEvent) -> dict[str, object]:
    request = event.request
    return {
        "account_id": event.inbox.account_id, "inbox_id": event.inbox.id,
        "endpoint": event.endpoint, "external_id": storable_id(event.external_id),
        "method": request.method, "url": request.url,
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "body": request.body, "received_at": request.received_at or utcnow()}


def storable_id(external_id: str) -> str:
    """The provider's id, or a digest of it when it is too long for the column or holds a
    character a text column refuses (PostgreSQL takes no NUL, no database a lone surrogate)."""
    if len(external_id) <= EXTERNAL_ID_LENGTH and "\x00" not in external_id:
        try:
            external_id.encode()
            return external_id
        except UnicodeEncodeError:
            pass
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


def body_digest(request: RawRequest) -> str:
    """The idempotency key of a verified request whose provider id cannot be read: the same
    bytes again are the same request, and the row still keeps the payload visible."""
    return "sha256:" + hashlib.sha256(request.body).hexdigest()


def raw_request(row: InboundEventRow) -> RawRequest:
    """The request exactly as it was stored, for parsing (again)."""
    return RawRequest(method=row.method, url=row.url, headers=dict(row.headers),
                      body=row.body, received_at=row.received_at)
