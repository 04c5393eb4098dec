"""Store raw first: one row per provider request, whatever arrives twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, RawRequest
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.group_commit import GroupCommit
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.store import RawEvent, raw_request, storable_id, store_raw_many
from tests.builders import inbox_id
from tests.harness import Api
from tests.signing import RECEIVED_AT

REQUEST = RawRequest("POST", "https://inbox.example.com/api/webhooks/sms/twilio?x=1",
                     {"Content-Type": "application/x-www-form-urlencoded"},
                     b"MessageSid=SM1&Body=hi", RECEIVED_AT)


def store_raw(session: Session, inbox: Inbox, endpoint: str, external_id: str,
              request: RawRequest) -> int | None:
    """One event: its new row's id, or None when its key is already stored."""
    new = store_raw_many(session, [RawEvent(inbox, endpoint, external_id, request)])
    return new[0][0] if new else None


def test_a_stored_request_comes_back_exactly_as_received(api: Api) -> None:
    with api.session() as session:
        inbox = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.SMS))
        event_id = store_raw(session, inbox, "inbound", "SM1", REQUEST)
        assert event_id is not None
    with api.session() as session:
        stored = session.get_one(InboundEventRow, event_id)
        assert raw_request(stored) == RawRequest(
            REQUEST.method, REQUEST.url, {"content-type": "application/x-www-form-urlencoded"},
            REQUEST.body, RECEIVED_AT)
        assert (stored.account_id, stored.handled_at, stored.attempts) == (
            api.alice.actor.account_id, None, 0)


def test_the_same_key_again_stores_nothing_and_keeps_the_callers_work(api: Api) -> None:
    with api.session() as session:
        inbox = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.SMS))
        first = store_raw(session, inbox, "inbound", "SM1", REQUEST)
        second = store_raw(session, inbox, "inbound", "SM1", REQUEST)
        other_endpoint = store_raw(session, inbox, "status", "SM1", REQUEST)
        assert first is not None and second is None and other_endpoint is not None
    with api.session() as session:  # the duplicate inserted nothing, the rest stayed
        assert session.scalar(select(func.count()).select_from(InboundEventRow)) == 2


def test_ids_a_column_cannot_hold_are_stored_as_digests() -> None:
    assert storable_id("SM1") == "SM1"
    assert storable_id("x" * 300).startswith("sha256:")
    assert storable_id("bad\x00id").startswith("sha256:")
    assert storable_id("x" * 300) == storable_id("x" * 300)


def test_webhooks_stored_together_each_land_once_and_a_bad_one_fails_alone(api: Api) -> None:
    with api.session() as session:
        inbox = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.SMS))
    gone = Inbox(id=inbox.id + 10_000, account_id=inbox.account_id)  # deleted meanwhile
    events = [RawEvent(inbox, "inbound", f"SM{n % 6}", REQUEST) for n in range(12)]
    events.append(RawEvent(gone, "inbound", "SMgone", REQUEST))

    def write(session: Session, batch: Sequence[RawEvent]) -> list[str | Exception]:
        store_raw_many(session, batch)
        return [event.external_id for event in batch]

    writer: GroupCommit[RawEvent, str] = GroupCommit(api.server.runtime.factory, write)

    async def arrive_together() -> list[str | BaseException]:
        return await asyncio.gather(*(writer.submit(event) for event in events),
                                    return_exceptions=True)

    try:
        answers = asyncio.run(arrive_together())
    finally:
        writer.close()
    assert answers[:12] == [f"SM{n % 6}" for n in range(12)]
    assert isinstance(answers[12], IntegrityError)
    with api.session() as session:
        stored = session.scalars(select(InboundEventRow.external_id)).all()
    assert sorted(stored) == [f"SM{n}" for n in range(6)]
