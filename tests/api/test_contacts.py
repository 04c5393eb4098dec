"""Contacts: one person, found by any of their addresses however they are written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.schemas import MAX_IDENTITIES
from tests.builders import customer_writes
from tests.harness import Api


def create(api: Api, **body: object) -> dict:
    response = api.alice.http.post("/api/v1/contacts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


class TestContacts:
    def test_phone_numbers_are_stored_in_e164(self, api: Api) -> None:
        contact = create(api, name="Aisha Khan",
                         identities=[{"kind": "phone", "value": "(415) 555-0123"},
                                     {"kind": "email", "value": "Aisha@Example.org"}])
        values = {i["kind"]: i["value"] for i in contact["identities"]}
        assert values == {"phone": "+14155550123", "email": "aisha@example.org"}

    def test_find_by_phone_in_any_format(self, api: Api) -> None:
        contact = create(api, name="Aisha", identities=[{"kind": "phone",
                                                         "value": "+1 415 555 0123"}])
        for written in ("4155550123", "+1-415-555-0123", "(415) 555 0123"):
            found = api.alice.http.get("/api/v1/contacts/find", params={"phone": written})
            assert found.json()["id"] == contact["id"], written

    def test_find_by_email_ignores_case(self, api: Api) -> None:
        contact = create(api, identities=[{"kind": "email", "value": "tom@becker.example"}])
        found = api.alice.http.get("/api/v1/contacts/find", params={"email": "TOM@Becker.example"})
        assert found.json()["id"] == contact["id"]

    def test_an_unknown_address_is_not_found(self, api: Api) -> None:
        found = api.alice.http.get("/api/v1/contacts/find", params={"email": "x@nowhere.example"})
        assert found.status_code == 404

    def test_an_invalid_phone_is_refused_with_the_reason(self, api: Api) -> None:
        response = api.alice.http.post("/api/v1/contacts", json={
            "identities": [{"kind": "phone", "value": "12"}]})
        assert response.status_code == 400
        assert "not a valid phone number" in response.json()["error"]["message"]

    def test_an_address_belongs_to_one_contact(self, api: Api) -> None:
        create(api, identities=[{"kind": "email", "value": "maria@example.org"}])
        response = api.alice.http.post("/api/v1/contacts", json={
            "identities": [{"kind": "email", "value": "MARIA@example.org"}]})
        assert response.status_code == 409

    def test_update_name_and_replace_identities(self, api: Api) -> None:
        contact = create(api, name="Tom", identities=[{"kind": "email", "value": "t@x.example"}])
        response = api.alice.http.patch(f"/api/v1/contacts/{contact['id']}", json={
            "name": "Tom Becker", "identities": [{"kind": "phone", "value": "+4915112345678"}]})
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Tom Becker"
        assert [i["value"] for i in response.json()["identities"]] == ["+4915112345678"]

    def test_list_searches_names_and_addresses(self, api: Api) -> None:
        create(api, name="Maria Garcia", identities=[{"kind": "email", "value": "m@g.example"}])
        create(api, name="Tom", identities=[{"kind": "email", "value": "tom@garcia-law.example"}])
        create(api, name="Priya", identities=[{"kind": "email", "value": "p@p.example"}])
        names = [c["name"] for c in api.alice.http.get("/api/v1/contacts",
                                                       params={"q": "garcia"}).json()["contacts"]]
        assert sorted(names) == ["Maria Garcia", "Tom"]

    def test_list_pages_with_a_cursor(self, api: Api) -> None:
        for n in range(5):
            create(api, name=f"C{n}", identities=[{"kind": "email", "value": f"c{n}@x.example"}])
        first = api.alice.http.get("/api/v1/contacts", params={"limit": 3}).json()
        second = api.alice.http.get("/api/v1/contacts", params={
            "limit": 3, "cursor": first["next_cursor"]}).json()
        names = [c["name"] for c in first["contacts"] + second["contacts"]]
        assert names == ["C4", "C3", "C2", "C1", "C0"]
        assert second["next_cursor"] is None


class TestMerge:
    def test_merging_moves_addresses_and_conversations(self, api: Api) -> None:
        by_email = customer_writes(api, api.alice, name="Maria Garcia")
        by_phone = customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Maria",
                                   address="+14155550123")
        merged = api.alice.http.post(f"/api/v1/contacts/{by_email.contact_id}/merge",
                                     json={"merge_id": by_phone.contact_id})
        assert merged.status_code == 200, merged.text
        kinds = sorted(i["kind"] for i in merged.json()["identities"])
        assert kinds == ["email", "phone"]
        conversation = api.alice.http.get(f"/api/v1/conversations/{by_phone.conversation_id}")
        assert conversation.json()["contact"]["id"] == by_email.contact_id
        gone = api.alice.http.get(f"/api/v1/contacts/{by_phone.contact_id}")
        assert gone.status_code == 404


class TestLimits:
    def test_more_identities_than_the_limit_are_refused(self, api: Api) -> None:
        identities = [{"kind": "handle", "value": f"maria{n}"} for n in range(MAX_IDENTITIES + 1)]
        response = api.alice.http.post("/api/v1/contacts", json={"identities": identities})
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "body.identities"

    def test_identities_are_checked_with_one_query_not_one_each(self, api: Api) -> None:
        """8,000 identities once held SQLite's write lock for minutes: the work is linear."""
        identities = [{"kind": "handle", "value": f"maria{n}"} for n in range(MAX_IDENTITIES)]
        with counted_selects(api) as selects:
            response = api.alice.http.post("/api/v1/contacts", json={"identities": identities})
        assert response.status_code == 201
        assert len(response.json()["identities"]) == MAX_IDENTITIES
        assert len(selects) < 10

    def test_an_identity_of_another_contact_is_still_a_conflict(self, api: Api) -> None:
        owner = customer_writes(api, api.alice, address="maria@example.org")
        response = api.alice.http.post("/api/v1/contacts", json={"identities": [
            {"kind": "handle", "value": "maria"}, {"kind": "email", "value": "Maria@Example.org"}]})
        assert response.status_code == 409
        assert response.json()["error"]["message"] == (
            f"maria@example.org already belongs to contact {owner.contact_id}")


@contextmanager
def counted_selects(api: Api) -> Iterator[list[str]]:
    """The SELECTs the server sends while the block runs (listening to its engine)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = api.server.runtime.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
