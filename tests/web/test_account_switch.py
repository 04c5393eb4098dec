"""One login, several accounts: an agent who works for two companies switches between their
inboxes, and sees only the chosen one's conversations."""

from __future__ import annotations

import uuid

import httpx

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Role
from tests.builders import customer_writes
from tests.harness import PASSWORD, Api
from tests.web.helpers import TOKEN_IN_PAGE, attempt_login, htmx, log_in_http


def _token(ui: httpx.Client) -> str:
    found = TOKEN_IN_PAGE.search(ui.get("/").text)
    assert found is not None
    return found.group(1)


def test_an_agent_in_two_accounts_switches_between_their_inboxes(ui: httpx.Client,
                                                                 api: Api) -> None:
    email = f"frank-{uuid.uuid4().hex[:6]}@example.test"
    acme_id, globex_id = api.alice.actor.account_id, api.carol.actor.account_id
    with api.session() as session:
        frank = accounts.create_agent(session, email=email, name="Frank", password=PASSWORD)
        for account_id in (acme_id, globex_id):
            accounts.add_member(session, session.get_one(Account, account_id), frank, Role.AGENT)
    acme = customer_writes(api, api.alice, subject="Acme's lamp")
    customer_writes(api, api.carol, subject="Globex's invoice")
    assert attempt_login(ui, email, PASSWORD).status_code == 303
    page = ui.get("/").text
    assert "Acme&#39;s lamp" in page and "Globex&#39;s invoice" not in page
    assert 'id="account-switch"' in page and ">Globex</option>" in page

    answer = ui.post("/account/switch", data={"account_id": str(globex_id)},
                     headers=htmx(_token(ui)))
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    page = ui.get("/").text
    assert "Globex&#39;s invoice" in page and "Acme&#39;s lamp" not in page
    assert ui.get(f"/conversations/{acme.conversation_id}").status_code == 404
    assert ui.get("/api/v1/me").json()["account_id"] == globex_id  # the same login moved


def test_an_account_one_is_not_in_cannot_be_switched_to(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    assert 'id="account-switch"' not in ui.get("/").text  # one account: no switcher
    answer = ui.post("/account/switch", data={"account_id": str(api.carol.actor.account_id)},
                     headers=htmx(token))
    assert answer.status_code == 403
    assert ui.get("/api/v1/me").json()["account_id"] == api.alice.actor.account_id
