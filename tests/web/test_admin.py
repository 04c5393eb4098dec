"""Running the account: agents come and go, and a deactivated agent is out at once."""

from __future__ import annotations

import re

import httpx

from clientcontact.inboxes.models import Inbox
from tests.harness import PASSWORD, Api
from tests.web.helpers import TOKEN_IN_FORM, htmx, log_in_http

LINK = re.compile(r'<code id="invitation-link">([^<]+)</code>')
# The pending invitations listed under the members: they differ by what was invited before.
LISTED_INVITATIONS = re.compile(r'\s*<tr class="invitation">.*?</tr>', re.DOTALL)
NEW = "a-password-of-my-own"


def test_a_deactivated_agent_is_logged_out_and_their_token_stops(api: Api) -> None:
    with httpx.Client(base_url=api.server.base_url) as bob, \
            httpx.Client(base_url=api.server.base_url) as alice:
        log_in_http(bob, api.bob)
        token = log_in_http(alice, api.alice)
        answer = alice.post(f"/admin/agents/{api.bob.agent_id}/active",
                            data={"active": "false"}, headers=htmx(token))
        assert answer.status_code == 200 and "Reactivate Bob Agent" in answer.text
        assert bob.get("/").status_code == 303
        assert api.bob.http.get("/api/v1/me").status_code == 401
        alice.post(f"/admin/agents/{api.bob.agent_id}/active", data={"active": "true"},
                   headers=htmx(token))
        assert api.bob.http.get("/api/v1/me").status_code == 200


def test_an_admin_cannot_lock_themselves_out(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    me = f"/admin/agents/{api.alice.agent_id}"
    assert ui.post(f"{me}/active", data={"active": "false"}, headers=htmx(token)).status_code == 409
    assert ui.post(f"{me}/role", data={"role": "agent"}, headers=htmx(token)).status_code == 409


def test_promoting_an_agent_opens_the_admin_pages_to_them(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = ui.post(f"/admin/agents/{api.bob.agent_id}/role", data={"role": "admin"},
                     headers=htmx(token))
    assert answer.status_code == 200
    with httpx.Client(base_url=api.server.base_url) as bob:
        log_in_http(bob, api.bob)
        assert bob.get("/admin/agents").status_code == 200


def test_an_agent_of_the_account_cannot_be_invited_again(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    again = ui.post("/admin/agents", headers=htmx(token),
                    data={"email": api.bob.email, "name": "Bob", "role": "agent"})
    assert again.status_code == 409 and "already an agent here" in again.json()["error"]["message"]


def test_the_invite_answer_is_the_same_for_an_existing_login_and_a_new_address(
        ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    pages = []
    for email in (api.carol.email, "dan@acme.test"):
        answer = ui.post("/admin/agents", headers=htmx(token),
                         data={"email": email, "name": "New colleague", "role": "agent"})
        assert answer.status_code == 200
        link = LINK.search(answer.text)
        assert link is not None
        pages.append(answer.text.replace(email, "EMAIL").replace(link.group(1), "LINK"))
    first, second = (LISTED_INVITATIONS.sub("", page) for page in pages)
    assert first == second
    assert "one-time" not in first and "already" not in first


def test_someone_new_opens_the_link_and_chooses_a_password(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = ui.post("/admin/agents", headers=htmx(token),
                     data={"email": "dan@acme.test", "name": "Dan", "role": "agent"})
    link = LINK.search(answer.text)
    assert link is not None
    with httpx.Client(base_url=api.server.base_url) as dan:
        page = dan.get(link.group(1).removeprefix(api.settings.public_url))
        assert "Acme</strong> invites <strong>dan@acme.test" in page.text
        form = TOKEN_IN_FORM.search(page.text)
        assert form is not None
        path = link.group(1).removeprefix(api.settings.public_url)
        joined = dan.post(f"{path}/join", data={"name": "Dan Newhire", "password": NEW,
                                                "repeat": NEW, "csrf_token": form.group(1)})
        assert joined.status_code == 303 and joined.headers["location"] == "/"
        assert dan.get("/api/v1/me").json()["name"] == "Dan Newhire"
    page = ui.get("/admin/agents").text
    assert "Remove Dan Newhire" in page and "Cancel the invitation" not in page


def test_someone_with_a_login_accepts_with_their_password(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = ui.post("/admin/agents", headers=htmx(token),
                     data={"email": api.carol.email, "name": "Carol", "role": "agent"})
    link = LINK.search(answer.text)
    assert link is not None
    path = link.group(1).removeprefix(api.settings.public_url)
    with httpx.Client(base_url=api.server.base_url) as carol:
        form = TOKEN_IN_FORM.search(carol.get(path).text)
        assert form is not None
        taken = carol.post(f"{path}/join", data={"password": NEW, "repeat": NEW,
                                                 "csrf_token": form.group(1)})
        assert taken.status_code == 409 and "already has a login" in taken.text
        wrong = carol.post(f"{path}/accept", data={"password": "not hers",
                                                   "csrf_token": form.group(1)})
        assert wrong.status_code == 401
        accepted = carol.post(f"{path}/accept", data={"password": PASSWORD,
                                                      "csrf_token": form.group(1)})
        assert accepted.status_code == 303
        assert carol.get("/api/v1/me").json()["account_id"] == api.alice.actor.account_id
    assert api.carol.http.get("/api/v1/me").status_code == 200  # her Globex token still works


def test_someone_logged_in_accepts_with_one_click(ui: httpx.Client, api: Api) -> None:
    invitation = api.alice.http.post("/api/v1/invitations", json={
        "email": api.carol.email, "name": "Carol"}).json()
    path = invitation["url"].removeprefix(api.settings.public_url)
    log_in_http(ui, api.carol)
    page = ui.get(path).text
    assert "Accept and join Acme" in page and "Your password" not in page
    form = TOKEN_IN_FORM.search(page)
    assert form is not None
    accepted = ui.post(f"{path}/accept", data={"csrf_token": form.group(1)})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/"
    assert ui.get("/api/v1/me").json()["account_id"] == api.alice.actor.account_id


def test_an_admin_removes_a_member_who_keeps_her_other_account(ui: httpx.Client,
                                                               api: Api) -> None:
    invitation = api.alice.http.post("/api/v1/invitations", json={
        "email": api.carol.email, "name": "Carol"}).json()
    api.carol.http.post("/api/v1/me/invitations/accept", json={"token": invitation["token"]})
    token = log_in_http(ui, api.alice)
    assert "Remove Alice Admin" not in ui.get("/admin/agents").text  # not oneself
    answer = ui.post(f"/admin/agents/{api.carol.agent_id}/remove", headers=htmx(token))
    assert answer.status_code == 200 and "Remove Carol Stranger" not in answer.text
    assert api.carol.http.get("/api/v1/me").json()["role"] == "admin"


class TestInboxesPage:
    def test_a_test_message_is_a_real_conversation_that_gets_sent(self, ui: httpx.Client,
                                                                 api: Api) -> None:
        token = log_in_http(ui, api.alice)
        email_inbox = next(i for i in api.alice.http.get("/api/v1/inboxes").json()
                           if i["channel"] == "email")
        answer = ui.post(f"/admin/inboxes/{email_inbox['id']}/test",
                         data={"to": "Me@Example.org", "csrf_token": token})
        assert answer.status_code == 303
        conversation_id = int(answer.headers["location"].rsplit("/", 1)[1])
        api.run_worker()
        [sent] = api.alice.http.get(f"/api/v1/conversations/{conversation_id}/messages"
                                    ).json()["messages"]
        assert sent["status"] == "sent" and sent["subject"] == "Test message from ClientContact"
        page = ui.get("/admin/inboxes").text
        assert "Last sent: 20" in page  # the email inbox's row now has a date

    def test_a_test_to_an_impossible_number_says_why_on_the_page(self, ui: httpx.Client,
                                                                api: Api) -> None:
        token = log_in_http(ui, api.alice)
        sms = next(i for i in api.alice.http.get("/api/v1/inboxes").json()
                   if i["channel"] == "sms")
        answer = ui.post(f"/admin/inboxes/{sms['id']}/test",
                         data={"to": "123", "csrf_token": token})
        assert answer.status_code == 200
        assert "not a valid phone number" in answer.text

    def test_the_page_shows_a_failed_send_in_the_last_hour(self, ui: httpx.Client,
                                                          api: Api) -> None:
        token = log_in_http(ui, api.alice)
        sms = next(i for i in api.alice.http.get("/api/v1/inboxes").json()
                   if i["channel"] == "sms")
        ui.post(f"/admin/inboxes/{sms['id']}/test",
                data={"to": "+15005550001", "csrf_token": token})
        api.run_worker()
        assert "Failed in the last hour: 1" in ui.get("/admin/inboxes").text


def _new_inbox(ui: httpx.Client, token: str, **fields: str) -> httpx.Response:
    form = {"name": "Second number", "channel": "sms", "provider": "twilio",
            "address": "+14155550177", **fields}
    return ui.post("/admin/inboxes", data=form, headers=htmx(token))


def test_an_inbox_created_with_its_own_twilio_keys_keeps_them_sealed(
        ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = _new_inbox(ui, token, cred_twilio_account_sid=" AC" + "2" * 32,
                        cred_twilio_auth_token="second-token",
                        cred_sendgrid_api_key="SG.ignored-for-a-twilio-inbox")
    assert answer.status_code == 200 and "Its own keys (sealed)" in answer.text
    assert "second-token" not in answer.text
    inbox = next(i for i in api.alice.http.get("/api/v1/inboxes").json()
                 if i["address"] == "+14155550177")
    assert inbox["has_own_credentials"] is True
    with api.session() as session:
        stored = session.get_one(Inbox, inbox["id"])
        assert "second-token" not in (stored.credentials_encrypted or "")
        assert api.server.runtime.adapters.credentials(stored) == {
            "account_sid": "AC" + "2" * 32, "auth_token": "second-token"}


def test_half_a_set_of_keys_is_refused_with_what_is_missing(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = _new_inbox(ui, token, cred_twilio_account_sid="AC" + "3" * 32)
    assert answer.status_code == 400
    assert "Auth token" in answer.json()["error"]["message"]
    assert all(i["address"] != "+14155550177"
               for i in api.alice.http.get("/api/v1/inboxes").json())


def test_an_inbox_without_typed_keys_uses_the_environments(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    answer = _new_inbox(ui, token, cred_twilio_account_sid="  ")
    assert answer.status_code == 200
    row = answer.text[answer.text.index("Second number"):]
    assert row.index("Keys from the environment") < row.index("</tr>")


def test_the_tokens_page_lets_an_admin_revoke_an_agents_token(ui: httpx.Client,
                                                               api: Api) -> None:
    [bobs] = [t for t in api.alice.http.get("/api/v1/api-tokens").json()
              if t["name"] == "bob's test token"]
    token = log_in_http(ui, api.alice)
    page = ui.get("/admin/tokens").text
    assert "Revoke bob&#39;s test token" in page and "carol" not in page
    answer = ui.post(f"/admin/tokens/{bobs['id']}/revoke", headers=htmx(token))
    assert answer.status_code == 200 and "Revoke bob&#39;s test token" not in answer.text
    assert api.bob.http.get("/api/v1/me").status_code == 401


def test_an_agent_has_no_tokens_page(api: Api) -> None:
    with httpx.Client(base_url=api.server.base_url) as bob:
        log_in_http(bob, api.bob)
        assert bob.get("/admin/tokens").status_code == 403
