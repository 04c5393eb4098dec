"""Store raw first: an authenticated provider request is saved as received, once.

The unique key (inbox, endpoint, external id) is what makes ingest idempotent: a provider's
retry, or the same request arriving twice at once, finds the key taken and stores nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientcontact.channels.base import RawRequest
from clientcontact.db.base import utcnow
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.models import InboundEventRow

EXTERNAL_ID_LENGTH = 255


def store_raw(session: Session, inbox: Inbox, endpoint: str, external_id: str,
              request: RawRequest) -> InboundEventRow | None:
    """The new row, or None when this key is already stored: callers must not enqueue then.

    The insert runs in a SAVEPOINT so a concurrent twin's unique violation rolls back only
    this insert, never the caller's transaction.
    """
    row = InboundEventRow(
        account_id=inbox.account_id, inbox_id=inbox.id, endpoint=endpoint,
        external_id=storable_id(external_id), method=request.method, url=request.url,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.body, received_at=request.received_at or utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def storable_id(external_id: str) -> str:
    """The provider's id, or a digest of it when it is too long for the column or holds a
    character a text column refuses (PostgreSQL takes no NUL)."""
    if len(external_id) <= EXTERNAL_ID_LENGTH and "\x00" not in external_id:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()


def body_digest(request: RawRequest) -> str:
    """The idempotency key of a verified request whose provider id cannot be read: the same
    bytes again are the same request, and the row still keeps the payload visible."""
    return "sha256:" + hashlib.sha256(request.body).hexdigest()


def raw_request(row: InboundEventRow) -> RawRequest:
    """The request exactly as it was stored, for parsing (again)."""
    return RawRequest(method=row.method, url=row.url, headers=dict(row.headers),
                      body=row.body, received_at=row.received_at)
