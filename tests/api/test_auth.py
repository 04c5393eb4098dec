"""Logging in and out, API tokens, and who the API says you are."""

from __future__ import annotations

import httpx

from clientcontact.accounts.members import set_role
from clientcontact.accounts.models import Role
from tests.harness import PASSWORD, Api, cookie_login


class TestLogin:
    def test_login_sets_an_httponly_cookie_that_opens_the_api(self, api: Api) -> None:
        browser = api.anonymous()
        response = browser.post("/api/v1/auth/login",
                                json={"email": "ALICE@acme.test", "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Alice Admin"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert browser.get("/api/v1/me").json()["email"] == "alice@acme.test"

    def test_wrong_password_and_unknown_email_get_the_same_clear_answer(self, api: Api) -> None:
        browser = api.anonymous()
        wrong = browser.post("/api/v1/auth/login",
                             json={"email": "alice@acme.test", "password": "nope"})
        unknown = browser.post("/api/v1/auth/login",
                               json={"email": "nobody@acme.test", "password": "nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["error"]["message"] == "wrong email or password"
        assert unknown.json()["error"]["message"] == "wrong email or password"

    def test_logout_ends_the_session(self, api: Api) -> None:
        browser = api.anonymous()
        cookie_login(browser, "bob@acme.test")
        stale_cookie = dict(browser.cookies)
        assert browser.post("/api/v1/auth/logout").status_code == 204
        replay = api.anonymous()
        replay.cookies.update(stale_cookie)
        assert replay.get("/api/v1/me").status_code == 401

    def test_without_credentials_the_api_says_how_to_authenticate(self, api: Api) -> None:
        response = api.anonymous().get("/api/v1/conversations")
        assert response.status_code == 401
        assert "Bearer" in response.json()["error"]["message"]


class TestApiTokens:
    def test_a_new_token_is_shown_once_and_works(self, api: Api) -> None:
        created = api.bob.http.post("/api/v1/api-tokens", json={"name": "zapier"})
        assert created.status_code == 201
        token = created.json()["token"]
        listed = api.bob.http.get("/api/v1/api-tokens").json()
        assert all("token" not in row for row in listed)
        me = api.anonymous().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "Bob Agent"

    def test_a_revoked_token_stops_working(self, api: Api) -> None:
        created = api.bob.http.post("/api/v1/api-tokens", json={"name": "old script"}).json()
        api.bob.http.delete(f"/api/v1/api-tokens/{created['id']}")
        me = api.anonymous().get("/api/v1/me",
                                 headers={"Authorization": f"Bearer {created['token']}"})
        assert me.status_code == 401
        assert "revoked" in me.json()["error"]["message"]


class TestWhatATokenMayDo:
    """A token acts with its agent's rights, at most: an agent sees and revokes only their own
    tokens, an admin every token of the account."""

    def test_an_agent_sees_only_their_own_tokens(self, api: Api) -> None:
        api.bob.http.post("/api/v1/api-tokens", json={"name": "bob's script"})
        names = [t["name"] for t in api.bob.http.get("/api/v1/api-tokens").json()]
        assert sorted(names) == ["bob's script", "bob's test token"]

    def test_an_agent_cannot_revoke_the_admins_token(self, api: Api) -> None:
        [alices] = [t for t in api.alice.http.get("/api/v1/api-tokens").json()
                    if t["name"] == "alice's test token"]
        answer = api.bob.http.delete(f"/api/v1/api-tokens/{alices['id']}")
        assert answer.status_code == 404
        assert api.alice.http.get("/api/v1/me").status_code == 200

    def test_an_admin_sees_and_revokes_every_token_of_the_account(self, api: Api) -> None:
        listed = {t["name"]: t for t in api.alice.http.get("/api/v1/api-tokens").json()}
        assert set(listed) == {"alice's test token", "bob's test token"}  # not carol's
        bobs = listed["bob's test token"]
        assert api.alice.http.delete(f"/api/v1/api-tokens/{bobs['id']}").status_code == 200
        assert api.bob.http.get("/api/v1/me").status_code == 401

    def test_a_token_follows_its_agents_role_at_once(self, api: Api) -> None:
        team = {"name": "Night shift"}
        assert api.bob.http.post("/api/v1/teams", json=team).status_code == 403
        with api.session() as session:
            set_role(session, api.alice.actor, api.bob.agent_id, Role.ADMIN)
        assert api.bob.http.post("/api/v1/teams", json=team).status_code == 201
        with api.session() as session:
            set_role(session, api.alice.actor, api.bob.agent_id, Role.AGENT)
        assert api.bob.http.post("/api/v1/teams", json={"name": "Day"}).status_code == 403
        assert len(api.bob.http.get("/api/v1/api-tokens").json()) == 1  # his own again


class TestCsrf:
    """A page on another site can make a browser send the login cookie, but not the token."""

    def test_a_cookie_request_without_the_token_is_refused_and_changes_nothing(
            self, api: Api) -> None:
        browser = api.anonymous()
        login = browser.post("/api/v1/auth/login",
                             json={"email": api.bob.email, "password": PASSWORD})
        token = login.json()["csrf_token"]
        assert login.headers["X-CSRF-Token"] == token
        forged = browser.post("/api/v1/contacts", json=PLANTED)
        assert forged.status_code == 403
        assert "X-CSRF-Token" in forged.json()["error"]["message"]
        wrong = browser.post("/api/v1/contacts", json=PLANTED,
                             headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        assert browser.post("/api/v1/auth/logout").status_code == 403
        assert _contacts(browser) == []  # nothing was made; reading needs no token
        made = browser.post("/api/v1/contacts", json=PLANTED, headers={"X-CSRF-Token": token})
        assert made.status_code == 201
        assert _contacts(browser) == ["Planted"]

    def test_a_token_of_another_login_does_not_pass(self, api: Api) -> None:
        mine, theirs = api.anonymous(), api.anonymous()
        cookie_login(theirs, api.alice.email)
        mine.post("/api/v1/auth/login", json={"email": api.bob.email, "password": PASSWORD})
        stolen = theirs.headers["X-CSRF-Token"]
        assert mine.post("/api/v1/contacts", json=PLANTED,
                         headers={"X-CSRF-Token": stolen}).status_code == 403

    def test_a_bearer_token_needs_no_csrf_token(self, api: Api) -> None:
        assert api.bob.http.post("/api/v1/contacts", json=PLANTED).status_code == 201


PLANTED = {"name": "Planted", "identities": [{"kind": "email", "value": "planted@evil.test"}]}


def _contacts(client: httpx.Client) -> list[str]:
    return [c["name"] for c in client.get("/api/v1/contacts").json()["contacts"]]
