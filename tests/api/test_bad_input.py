"""Values no database can hold get a 4xx that names the field, on both engines: ids beyond
64 bits, NUL characters, unpaired surrogates, nulls where null means nothing."""

from __future__ import annotations

import pytest

from tests.builders import customer_writes
from tests.harness import PASSWORD, Api

TOO_BIG = 2**63  # one past the largest id either engine stores

ID_CASES = [
    ("GET", f"/api/v1/conversations/{TOO_BIG}", None),
    ("GET", f"/api/v1/contacts/{-TOO_BIG - 1}", None),
    ("GET", f"/api/v1/conversations?inbox_id={TOO_BIG}", None),
    ("GET", f"/api/v1/conversations?assignee={TOO_BIG * 10}", None),
    ("GET", f"/api/v1/conversations/1/messages?after={TOO_BIG}", None),
    ("POST", "/api/v1/conversations", {"inbox_id": TOO_BIG, "contact_id": 1, "text": "hi"}),
    ("POST", "/api/v1/contacts/1/merge", {"merge_id": TOO_BIG}),
    ("POST", "/api/v1/teams", {"name": "Billing", "agent_ids": [TOO_BIG]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ID_CASES,
                         ids=[f"{m} {p}" for m, p, _ in ID_CASES])
def test_an_id_beyond_64_bits_is_refused_not_a_server_error(api: Api, method: str, path: str,
                                                            body: dict | None) -> None:
    response = api.alice.http.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_a_nul_character_in_a_login_is_refused_before_any_lookup(api: Api) -> None:
    response = api.anonymous().post("/api/v1/auth/login",
                                    json={"email": "alice@acme.test\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "body.email: Value error, text must not contain a NUL character")


def test_an_unpaired_surrogate_in_a_note_is_refused(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    response = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/notes",
                                   content=b'{"text": "half an emoji \\ud83d"}',
                                   headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.text"


def test_a_nul_character_in_a_nested_value_is_refused(api: Api) -> None:
    response = api.alice.http.post("/api/v1/contacts", json={
        "name": "Maria", "identities": [{"kind": "handle", "value": "maria\x00"}]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.identities.0.value"


def test_a_nul_character_in_the_address_is_refused(api: Api) -> None:
    for path in ("/api/v1/contacts?q=maria%00", "/?q=%00", "/api/v1/contacts/find?email=a%00"):
        response = api.alice.http.get(path)
        assert response.status_code == 422, path
        assert "NUL" in response.json()["error"]["message"]


def test_a_percent_sign_in_a_search_is_still_searched(api: Api) -> None:
    response = api.alice.http.get("/api/v1/contacts?q=100%2500")  # the text "100%00"
    assert response.status_code == 200


class TestExplicitNulls:
    def test_null_where_null_means_nothing_is_refused(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        url = f"/api/v1/conversations/{thread.conversation_id}"
        for field in ("status", "priority", "tags", "snoozed_until"):
            response = api.alice.http.patch(url, json={field: None})
            assert response.status_code == 422, field
            assert response.json()["error"]["details"][0]["field"] == f"body.{field}"

    def test_null_assignee_unassigns(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        url = f"/api/v1/conversations/{thread.conversation_id}"
        api.alice.http.patch(url, json={"assignee_id": api.bob.agent_id}).raise_for_status()
        response = api.alice.http.patch(url, json={"assignee_id": None})
        assert response.status_code == 200
        assert response.json()["assignee"] is None

    def test_null_identities_on_a_contact_are_refused_and_null_notes_clear(self,
                                                                           api: Api) -> None:
        thread = customer_writes(api, api.alice)
        url = f"/api/v1/contacts/{thread.contact_id}"
        assert api.alice.http.patch(url, json={"identities": None}).status_code == 422
        api.alice.http.patch(url, json={"notes": "VIP"}).raise_for_status()
        response = api.alice.http.patch(url, json={"notes": None})
        assert response.status_code == 200 and response.json()["notes"] is None


class TestTimesAndHeaders:
    def test_a_snooze_time_needs_its_utc_offset(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        url = f"/api/v1/conversations/{thread.conversation_id}"
        for moment, message in (("2099-01-01T09:00:00", "Input should have timezone info"),
                                ("9999-12-31T23:59:59-23:59", "between the years 1 and 9999")):
            response = api.alice.http.patch(url, json={"status": "snoozed",
                                                       "snoozed_until": moment})
            assert response.status_code == 422, moment
            assert message in response.json()["error"]["message"]
        response = api.alice.http.patch(url, json={"status": "snoozed",
                                                   "snoozed_until": "2099-01-01T09:00:00+02:00"})
        assert response.status_code == 200
        assert response.json()["snoozed_until"].startswith("2099-01-01T07:00:00")

    def test_a_subject_or_a_name_is_one_line(self, api: Api) -> None:
        """Each may become an email header, where a line break starts another."""
        thread = customer_writes(api, api.alice)
        started = api.alice.http.post("/api/v1/conversations", json={
            "inbox_id": thread.inbox_id, "contact_id": thread.contact_id, "text": "Hello",
            "subject": "Your order\r\nBcc: everyone@example.org"})
        assert started.status_code == 422
        assert started.json()["error"]["message"] == (
            "body.subject: Value error, must be one line (no CR or LF)")
        renamed = api.alice.http.patch(f"/api/v1/contacts/{thread.contact_id}",
                                       json={"name": "Maria\nGarcia"})
        assert renamed.status_code == 422
