"""Agents' screens hear about a change only once it is committed."""

from __future__ import annotations

import pytest

from clientcontact.db.scope import unit_of_work
from clientcontact.realtime.bus import InProcessBus, RealtimeEvent, publish_after_commit
from tests.builders import customer_writes
from tests.harness import Api


def test_a_reply_is_announced_after_it_is_saved(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    subscription = api.server.runtime.bus.subscribe(api.alice.actor.account_id)
    try:
        api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                            json={"text": "On it"})
        event = subscription.get(timeout=5)
    finally:
        subscription.close()
    assert event is not None and event.type == "message.created"
    assert event.data["conversation_id"] == thread.conversation_id


def test_rolled_back_work_is_never_announced(api: Api) -> None:
    bus = InProcessBus()
    subscription = bus.subscribe(1)
    factory = api.server.runtime.factory
    with pytest.raises(RuntimeError), unit_of_work(factory) as session:
        session.info["bus"] = bus
        publish_after_commit(session, RealtimeEvent(1, "message.created", {}))
        raise RuntimeError("the request failed after the service ran")
    assert subscription.get(timeout=0.2) is None


def test_other_accounts_do_not_hear_it(api: Api) -> None:
    bus = InProcessBus()
    carols = bus.subscribe(2)
    bus.publish(RealtimeEvent(1, "message.created", {}))
    assert carols.get(timeout=0.2) is None
