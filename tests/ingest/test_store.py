"""Store raw first: one row per provider request, whatever arrives twice."""

from __future__ import annotations

from sqlalchemy import func, select

from clientcontact.channels.base import ChannelKind, RawRequest
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.store import raw_request, storable_id, store_raw
from tests.builders import inbox_id
from tests.harness import Api
from tests.signing import RECEIVED_AT

REQUEST = RawRequest("POST", "https://inbox.example.com/api/webhooks/sms/twilio?x=1",
                     {"Content-Type": "application/x-www-form-urlencoded"},
                     b"MessageSid=SM1&Body=hi", RECEIVED_AT)


def test_a_stored_request_comes_back_exactly_as_received(api: Api) -> None:
    with api.session() as session:
        inbox = session.get_one(Inbox, inbox_id(api, api.alice, ChannelKind.SMS))
        row = store_raw(session, inbox, "inbound", "SM1", REQUEST)
        assert row is not None
        event_id = row.id
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
    with api.session() as session:  # the savepoint rolled back only the duplicate
        assert session.scalar(select(func.count()).select_from(InboundEventRow)) == 2


def test_ids_a_column_cannot_hold_are_stored_as_digests() -> None:
    assert storable_id("SM1") == "SM1"
    assert storable_id("x" * 300).startswith("sha256:")
    assert storable_id("bad\x00id").startswith("sha256:")
    assert storable_id("x" * 300) == storable_id("x" * 300)
