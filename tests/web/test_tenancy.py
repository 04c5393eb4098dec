"""Another account's ids look absent in the UI too."""

from __future__ import annotations

import httpx

from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http


def test_another_accounts_conversation_is_not_found(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    token = log_in_http(ui, api.carol)
    conversation = thread.conversation_id
    for path in (f"/conversations/{conversation}", f"/conversations/{conversation}/messages",
                 f"/conversations/{conversation}/header", f"/messages/{thread.message_id}",
                 f"/contacts/{thread.contact_id}/panel"):
        assert ui.get(path).status_code == 404, path
    for path, data in ((f"/conversations/{conversation}/update", {"status": "resolved"}),
                       (f"/conversations/{conversation}/compose", {"mode": "note", "text": "x"}),
                       (f"/contacts/{thread.contact_id}", {"name": "Stolen"})):
        assert ui.post(path, data=data, headers=htmx(token)).status_code == 404, path


def test_agents_cannot_open_the_admin_pages(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.bob)
    assert ui.get("/admin/agents").status_code == 403
    answer = ui.post("/admin/tokens", data={"name": "mine"}, headers=htmx(token))
    assert answer.status_code == 403


def test_another_accounts_members_and_invitations_are_not_found(ui: httpx.Client,
                                                                api: Api) -> None:
    invitation = api.alice.http.post("/api/v1/invitations", json={
        "email": "dan@acme.test", "name": "Dan"}).json()
    token = log_in_http(ui, api.carol)
    for path in (f"/admin/agents/{api.bob.agent_id}/remove",
                 f"/admin/invitations/{invitation['id']}/cancel"):
        assert ui.post(path, headers=htmx(token)).status_code == 404, path
    assert api.bob.http.get("/api/v1/me").status_code == 200
    assert len(api.alice.http.get("/api/v1/invitations").json()) == 1
