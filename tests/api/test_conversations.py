"""The conversation list and what agents do to a conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clientcontact.channels.base import ChannelKind
from tests.builders import customer_writes, inbox_id
from tests.harness import Api


def listing(api: Api, **params: object) -> list[int]:
    response = api.alice.http.get("/api/v1/conversations", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


def patch(api: Api, conversation_id: int, **body: object) -> dict:
    response = api.alice.http.patch(f"/api/v1/conversations/{conversation_id}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def thread_texts(api: Api, conversation_id: int) -> list[str]:
    messages = api.alice.http.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    return [m["text"] for m in messages["messages"]]


def ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


class TestListing:
    def test_newest_activity_first_and_paged_by_cursor(self, api: Api) -> None:
        ids = [customer_writes(api, api.alice, address=f"c{n}@x.example", at=ago(60 - n)).
               conversation_id for n in range(5)]
        first = api.alice.http.get("/api/v1/conversations", params={"limit": 2}).json()
        seen = [c["id"] for c in first["conversations"]]
        cursor = first["next_cursor"]
        while cursor:
            page = api.alice.http.get("/api/v1/conversations",
                                      params={"limit": 2, "cursor": cursor}).json()
            seen += [c["id"] for c in page["conversations"]]
            cursor = page["next_cursor"]
        assert seen == ids[::-1]

    def test_filters_by_status_inbox_and_channel(self, api: Api) -> None:
        email = customer_writes(api, api.alice)
        sms = customer_writes(api, api.alice, channel=ChannelKind.SMS)
        patch(api, sms.conversation_id, status="resolved")
        assert listing(api, status="open") == [email.conversation_id]
        assert listing(api, channel="sms") == [sms.conversation_id]
        assert listing(api, inbox_id=inbox_id(api, api.alice, ChannelKind.EMAIL)) == [
            email.conversation_id]

    def test_mine_unassigned_and_by_agent(self, api: Api) -> None:
        mine = customer_writes(api, api.alice, address="a@x.example")
        bobs = customer_writes(api, api.alice, address="b@x.example")
        nobody = customer_writes(api, api.alice, address="c@x.example")
        patch(api, mine.conversation_id, assignee_id=api.alice.agent_id)
        patch(api, bobs.conversation_id, assignee_id=api.bob.agent_id)
        assert listing(api, assignee="me") == [mine.conversation_id]
        assert listing(api, assignee="none") == [nobody.conversation_id]
        assert listing(api, assignee=str(api.bob.agent_id)) == [bobs.conversation_id]
        bob_sees = api.bob.http.get("/api/v1/conversations", params={"assignee": "me"}).json()
        assert [c["id"] for c in bob_sees["conversations"]] == [bobs.conversation_id]

    def test_filters_by_team_and_tag(self, api: Api) -> None:
        team = api.alice.http.post("/api/v1/teams", json={
            "name": "Billing", "agent_ids": [api.bob.agent_id]}).json()
        billing = customer_writes(api, api.alice, address="a@x.example")
        other = customer_writes(api, api.alice, address="b@x.example")
        patch(api, billing.conversation_id, team_id=team["id"], tags=["Invoices"])
        patch(api, other.conversation_id, tags=["orders"])
        assert listing(api, team_id=team["id"]) == [billing.conversation_id]
        assert listing(api, tag="invoices") == [billing.conversation_id]

    def test_a_bad_filter_value_is_a_clear_422(self, api: Api) -> None:
        response = api.alice.http.get("/api/v1/conversations", params={"status": "closed"})
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "query.status"


class TestChanges:
    def test_resolve_and_reopen_leave_activity_lines(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        resolved = patch(api, thread.conversation_id, status="resolved")
        assert resolved["status"] == "resolved" and resolved["resolved_at"]
        reopened = patch(api, thread.conversation_id, status="open")
        assert reopened["resolved_at"] is None
        assert thread_texts(api, thread.conversation_id)[-2:] == [
            "Alice Admin marked resolved", "Alice Admin marked open"]

    def test_snooze_needs_a_future_time(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        refused = api.alice.http.patch(f"/api/v1/conversations/{thread.conversation_id}",
                                       json={"status": "snoozed"})
        assert refused.status_code == 400
        until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
        snoozed = patch(api, thread.conversation_id, status="snoozed", snoozed_until=until)
        assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"]

    def test_assign_to_a_teammate(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        assigned = patch(api, thread.conversation_id, assignee_id=api.bob.agent_id)
        assert assigned["assignee"] == {"id": api.bob.agent_id, "name": "Bob Agent"}
        assert thread_texts(api, thread.conversation_id)[-1] == (
            "Alice Admin assigned to Bob Agent")
        unassigned = patch(api, thread.conversation_id, assignee_id=None)
        assert unassigned["assignee"] is None

    def test_priority_and_tags(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        changed = patch(api, thread.conversation_id, priority="urgent", tags=["VIP", "orders"])
        assert changed["priority"] == "urgent"
        assert changed["tags"] == ["orders", "vip"]
        untagged = patch(api, thread.conversation_id, tags=["orders"])
        assert untagged["tags"] == ["orders"]
        assert "Alice Admin untagged vip" in thread_texts(api, thread.conversation_id)


class TestStartConversation:
    def test_agent_writes_first_to_a_contact(self, api: Api) -> None:
        contact = api.alice.http.post("/api/v1/contacts", json={
            "name": "Priya", "identities": [{"kind": "phone", "value": "+447911123456"}]}).json()
        started = api.alice.http.post("/api/v1/conversations", json={
            "inbox_id": inbox_id(api, api.alice, ChannelKind.SMS), "contact_id": contact["id"],
            "text": "Your appointment is confirmed for Thursday."})
        assert started.status_code == 201, started.text
        assert started.json()["message"]["status"] == "queued"
        assert started.json()["assignee"]["id"] == api.alice.agent_id
        api.run_worker()
        [sent] = api.alice.http.get("/api/v1/dev/outbox").json()
        assert sent["to"] == "+447911123456"

    def test_an_email_contact_cannot_be_texted(self, api: Api) -> None:
        contact = api.alice.http.post("/api/v1/contacts", json={
            "identities": [{"kind": "email", "value": "tom@x.example"}]}).json()
        started = api.alice.http.post("/api/v1/conversations", json={
            "inbox_id": inbox_id(api, api.alice, ChannelKind.SMS), "contact_id": contact["id"],
            "text": "hello"})
        assert started.status_code == 422
        assert "no phone" in started.json()["error"]["message"]
