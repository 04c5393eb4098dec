"""Carol works at another company: every id of Acme's looks absent to her (404), in paths and in
bodies alike, and nothing of hers leaks into Acme's lists."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute

from clientcontact.channels.base import ChannelKind
from tests.builders import customer_writes, inbox_id
from tests.harness import Api


@dataclass(frozen=True)
class AcmeIds:
    conversation: int
    message: int
    contact: int
    inbox: int
    team: int
    tag: int
    token: int
    attachment: int
    agent: int
    invitation: int


@pytest.fixture
def acme(api: Api) -> AcmeIds:
    thread = customer_writes(api, api.alice)
    reply = api.alice.http.post(
        f"/api/v1/conversations/{thread.conversation_id}/messages",
        json={"text": "see attached", "attachments": [{
            "filename": "a.txt", "data_base64": base64.b64encode(b"hi").decode()}]}).json()
    team = api.alice.http.post("/api/v1/teams", json={"name": "Billing"}).json()
    tag = api.alice.http.post("/api/v1/tags", json={"name": "vip"}).json()
    token = api.alice.http.post("/api/v1/api-tokens", json={"name": "script"}).json()
    invitation = api.alice.http.post("/api/v1/invitations", json={
        "email": "dan@acme.test", "name": "Dan"}).json()
    return AcmeIds(conversation=thread.conversation_id, message=reply["id"],
                   contact=thread.contact_id, inbox=thread.inbox_id, team=team["id"],
                   tag=tag["id"], token=token["id"], attachment=reply["attachments"][0]["id"],
                   agent=api.alice.agent_id, invitation=invitation["id"])


# (method, path, body): every route that takes an id, with Acme's ids filled in.
PATH_CASES = [
    ("GET", "/api/v1/conversations/{conversation}", None),
    ("PATCH", "/api/v1/conversations/{conversation}", {"status": "resolved"}),
    ("GET", "/api/v1/conversations/{conversation}/messages", None),
    ("POST", "/api/v1/conversations/{conversation}/messages", {"text": "hi"}),
    ("POST", "/api/v1/conversations/{conversation}/notes", {"text": "hi"}),
    ("GET", "/api/v1/messages/{message}", None),
    ("POST", "/api/v1/messages/{message}/retry", None),
    ("GET", "/api/v1/attachments/{attachment}", None),
    ("GET", "/api/v1/contacts/{contact}", None),
    ("PATCH", "/api/v1/contacts/{contact}", {"name": "Mallory"}),
    ("POST", "/api/v1/contacts/{contact}/merge", {"merge_id": 999_999}),
    ("GET", "/api/v1/inboxes/{inbox}", None),
    ("GET", "/api/v1/teams/{team}", None),
    ("PUT", "/api/v1/teams/{team}", {"name": "Mine now"}),
    ("DELETE", "/api/v1/teams/{team}", None),
    ("GET", "/api/v1/tags/{tag}", None),
    ("DELETE", "/api/v1/tags/{tag}", None),
    ("DELETE", "/api/v1/api-tokens/{token}", None),
    ("DELETE", "/api/v1/agents/{agent}", None),
    ("DELETE", "/api/v1/invitations/{invitation}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), PATH_CASES,
                         ids=[f"{m} {p}" for m, p, _ in PATH_CASES])
def test_another_accounts_ids_are_not_found(api: Api, acme: AcmeIds, method: str, path: str,
                                            body: dict | None) -> None:
    url = path.format(**acme.__dict__)
    response = api.carol.http.request(method, url, json=body)
    assert response.status_code == 404, response.text
    # …and Acme still has it, unchanged.
    if method == "GET":
        assert api.alice.http.get(url).status_code == 200


def test_every_route_with_an_id_is_in_the_tenancy_table(api: Api) -> None:
    app = api.server._server.config.app
    routes = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) and "{" in r.path
              for m in r.methods}
    covered = {(m, p.replace("{conversation}", "{conversation_id}")
                .replace("{message}", "{message_id}").replace("{attachment}", "{attachment_id}")
                .replace("{contact}", "{contact_id}").replace("{inbox}", "{inbox_id}")
                .replace("{team}", "{team_id}").replace("{tag}", "{tag_id}")
                .replace("{token}", "{token_id}").replace("{agent}", "{agent_id}")
                .replace("{invitation}", "{invitation_id}")) for m, p, _ in PATH_CASES}
    assert routes - covered == set()


class TestIdsInBodies:
    def test_cannot_merge_acmes_contact_into_her_own(self, api: Api, acme: AcmeIds) -> None:
        own = customer_writes(api, api.carol, address="someone@globex.example")
        response = api.carol.http.post(f"/api/v1/contacts/{own.contact_id}/merge",
                                       json={"merge_id": acme.contact})
        assert response.status_code == 404
        assert api.alice.http.get(f"/api/v1/contacts/{acme.contact}").status_code == 200

    def test_cannot_assign_her_conversation_to_acmes_agent_or_team(self, api: Api,
                                                                   acme: AcmeIds) -> None:
        own = customer_writes(api, api.carol, address="someone@globex.example")
        for body in ({"assignee_id": acme.agent}, {"team_id": acme.team}):
            response = api.carol.http.patch(f"/api/v1/conversations/{own.conversation_id}",
                                            json=body)
            assert response.status_code == 404, body

    def test_cannot_start_a_conversation_on_acmes_inbox_or_contact(self, api: Api,
                                                                  acme: AcmeIds) -> None:
        own = customer_writes(api, api.carol, address="someone@globex.example")
        own_inbox = inbox_id(api, api.carol, ChannelKind.EMAIL)
        for inbox, contact in ((acme.inbox, own.contact_id), (own_inbox, acme.contact)):
            response = api.carol.http.post("/api/v1/conversations", json={
                "inbox_id": inbox, "contact_id": contact, "subject": "hi", "text": "hello"})
            assert response.status_code == 404

    def test_cannot_put_acmes_agent_in_her_team(self, api: Api, acme: AcmeIds) -> None:
        response = api.carol.http.post("/api/v1/teams", json={"name": "X",
                                                              "agent_ids": [acme.agent]})
        assert response.status_code == 404


class TestLists:
    def test_lists_show_only_her_own_account(self, api: Api, acme: AcmeIds) -> None:
        for path, key in (("/api/v1/conversations", "conversations"),
                          ("/api/v1/contacts", "contacts")):
            assert api.carol.http.get(path).json()[key] == []
        for path in ("/api/v1/teams", "/api/v1/tags"):
            assert api.carol.http.get(path).json() == []
        tokens = [t["name"] for t in api.carol.http.get("/api/v1/api-tokens").json()]
        assert tokens == ["carol's test token"]
        inboxes = {i["address"] for i in api.carol.http.get("/api/v1/inboxes").json()}
        assert inboxes == {"help@globex.test", "+15017122661"}
        agents = [a["name"] for a in api.carol.http.get("/api/v1/agents").json()]
        assert agents == ["Carol Stranger"]

    def test_filters_and_finders_do_not_reach_across(self, api: Api, acme: AcmeIds) -> None:
        by_inbox = api.carol.http.get("/api/v1/conversations", params={"inbox_id": acme.inbox})
        assert by_inbox.json()["conversations"] == []
        found = api.carol.http.get("/api/v1/contacts/find",
                                   params={"email": "maria@example.org"})
        assert found.status_code == 404

    def test_the_dev_outbox_shows_only_her_sends(self, api: Api, acme: AcmeIds) -> None:
        api.run_worker()
        assert len(api.alice.http.get("/api/v1/dev/outbox").json()) == 1
        assert api.carol.http.get("/api/v1/dev/outbox").json() == []
