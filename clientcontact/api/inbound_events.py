"""Inbound events for admins: what providers sent that we could not handle, and why."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from clientcontact.api.deps import CurrentAdmin, DbSession
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.service import EventState, list_events
from clientcontact.inputs import Id

router = APIRouter(prefix="/api/v1/inbound-events", tags=["inbound events"])


class InboundEventOut(BaseModel):
    id: int
    inbox_id: int
    endpoint: str
    external_id: str
    received_at: datetime
    handled_at: datetime | None
    attempts: int
    error: str | None
    note: str | None

    @classmethod
    def of(cls, row: InboundEventRow) -> InboundEventOut:
        return cls(id=row.id, inbox_id=row.inbox_id, endpoint=row.endpoint,
                   external_id=row.external_id, received_at=row.received_at,
                   handled_at=row.handled_at, attempts=row.attempts, error=row.error,
                   note=row.note)


@router.get("", response_model=list[InboundEventOut])
def inbound_events(session: DbSession, admin: CurrentAdmin,
                   state: EventState = EventState.FAILED,
                   limit: int = Query(50, ge=1, le=500),
                   before_id: Id | None = None) -> list[InboundEventOut]:
    """Newest first; page with `before_id` = the last id seen. `clientcontact replay-inbound`
    re-runs failed ones after a fix."""
    rows = list_events(session, admin, state, limit=limit, before_id=before_id)
    return [InboundEventOut.of(row) for row in rows]
