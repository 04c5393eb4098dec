"""Who belongs to an account: an admin invites an address, the person accepts with their own
login; an admin removes a membership, never the person. Carol (Globex's admin) plays the
admin of another account who tries to reach Acme through an address both invite."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Role
from tests.builders import customer_writes
from tests.harness import PASSWORD, Api

OWN_PASSWORD = "a-password-of-my-own"


def _address() -> str:
    return f"xavier-{uuid.uuid4().hex[:6]}@example.test"


def _invite(api: Api, inviter: httpx.Client, email: str, role: str = "agent") -> dict[str, Any]:
    answer = inviter.post("/api/v1/invitations", json={"email": email, "name": "Xavier",
                                                       "role": role})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _login(api: Api, email: str, password: str, account_id: int | None = None
           ) -> httpx.Response:
    body: dict[str, Any] = {"email": email, "password": password}
    if account_id is not None:
        body["account_id"] = account_id
    return api.anonymous().post("/api/v1/auth/login", json=body)


def _session(api: Api, email: str, password: str, account_id: int | None = None
             ) -> httpx.Client:
    client = api.anonymous()
    answer = client.post("/api/v1/auth/login", json={
        "email": email, "password": password, "account_id": account_id})
    assert answer.status_code == 200, answer.text
    return client


def _bearer(api: Api, email: str, password: str, account_id: int | None = None
            ) -> httpx.Client:
    """A script of that login: a token made for it, so its calls need no cookie."""
    with api.session() as session:
        actor = accounts.authenticate(session, email, password, account_id)
        _, token = accounts.create_api_token(session, actor, "script")
    return httpx.Client(base_url=api.server.base_url, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def _agent_ids(api: Api) -> set[int]:
    return {a["id"] for a in api.alice.http.get("/api/v1/agents").json()}


class TestTheTakeoverThroughASharedAddress:
    def test_another_accounts_admin_cannot_reach_acme_with_a_login_they_made(self,
                                                                             api: Api) -> None:
        """Globex invites x and makes x's login itself; Acme then invites x as an admin.
        Globex's admin, holding x's password, still cannot open Acme."""
        email, acme_id = _address(), api.alice.actor.account_id
        globex_link = _invite(api, api.carol.http, email)
        joined = api.anonymous().post("/api/v1/invitations/join", json={
            "token": globex_link["token"], "password": "carols-choice-for-x"})
        assert joined.status_code == 201
        _invite(api, api.alice.http, email, role="admin")

        assert _login(api, email, "carols-choice-for-x", acme_id).status_code == 401
        as_x = _bearer(api, email, "carols-choice-for-x")
        guessed = as_x.post("/api/v1/me/invitations/accept", json={"token": "cci_guess"})
        assert guessed.status_code == 404
        assert as_x.get("/api/v1/me").json()["account_id"] == api.carol.actor.account_id
        assert len(_agent_ids(api)) == 2  # alice and bob: no one joined Acme

    def test_a_one_time_password_from_another_account_never_opens_acme(self,
                                                                       api: Api) -> None:
        """A login still on a one-time password (chosen by Globex's admin, before invitation
        links) cannot join Acme, even with Acme's own link."""
        email, one_time = _address(), "one-time-password-1"
        with api.session() as session:
            x = accounts.create_agent(session, email=email, name="X", password=one_time)
            x.must_change_password = True
            accounts.add_member(session, session.get_one(Account, api.carol.actor.account_id),
                                x, Role.AGENT)
        acme_link = _invite(api, api.alice.http, email, role="admin")
        assert _login(api, email, one_time, api.alice.actor.account_id).status_code == 401
        as_x = _bearer(api, email, one_time)
        accepted = as_x.post("/api/v1/me/invitations/accept", json={"token": acme_link["token"]})
        assert accepted.status_code == 403 and "your own password first" in accepted.text
        taken = api.anonymous().post("/api/v1/invitations/join", json={
            "token": acme_link["token"], "password": "carol-sets-a-new-one"})
        assert taken.status_code == 409  # a link never sets an existing login's password
        assert _login(api, email, one_time).status_code == 200
        assert len(_agent_ids(api)) == 2


def test_the_inviter_cannot_tell_an_existing_login_from_a_new_address(api: Api) -> None:
    existing = _invite(api, api.alice.http, api.carol.email)
    new = _invite(api, api.alice.http, _address())
    assert existing.keys() == new.keys()
    assert existing["role"] == new["role"] == "agent"
    for answer in (existing, new):
        assert answer["url"] == f"{api.settings.public_url}/invitations/{answer['token']}"
    pending = {i["email"] for i in api.alice.http.get("/api/v1/invitations").json()}
    assert pending == {api.carol.email, new["email"]}
    assert len(_agent_ids(api)) == 2  # an invitation is not a membership


class TestAcceptingAndDeclining:
    def test_someone_with_a_login_accepts_and_keeps_their_other_account(self,
                                                                        api: Api) -> None:
        link = _invite(api, api.alice.http, api.carol.email)
        joined = api.carol.http.post("/api/v1/me/invitations/accept",
                                     json={"token": link["token"]})
        assert joined.json() == {"account_id": api.alice.actor.account_id,
                                 "account_name": "Acme", "role": "agent"}
        assert api.carol.agent_id in _agent_ids(api)
        acme = _session(api, api.carol.email, PASSWORD, api.alice.actor.account_id)
        assert acme.get("/api/v1/me").json()["role"] == "agent"
        assert api.carol.http.get("/api/v1/me").json()["role"] == "admin"  # Globex, as before
        again = api.carol.http.post("/api/v1/me/invitations/accept",
                                    json={"token": link["token"]})
        assert again.status_code == 404  # a link works once

    def test_only_the_invited_address_can_accept(self, api: Api) -> None:
        link = _invite(api, api.alice.http, _address())
        answer = api.carol.http.post("/api/v1/me/invitations/accept",
                                     json={"token": link["token"]})
        assert answer.status_code == 403
        assert api.carol.agent_id not in _agent_ids(api)

    def test_someone_new_chooses_their_own_password(self, api: Api) -> None:
        email = _address()
        link = _invite(api, api.alice.http, email)
        short = api.anonymous().post("/api/v1/invitations/join",
                                     json={"token": link["token"], "password": "short"})
        assert short.status_code == 400
        joined = api.anonymous().post("/api/v1/invitations/join", json={
            "token": link["token"], "password": OWN_PASSWORD, "name": "Xavier X"})
        assert joined.status_code == 201
        me = _session(api, email, OWN_PASSWORD).get("/api/v1/me").json()
        assert me["name"] == "Xavier X" and me["must_change_password"] is False
        assert me["account_id"] == api.alice.actor.account_id

    def test_a_declined_invitation_is_gone(self, api: Api) -> None:
        link = _invite(api, api.alice.http, api.carol.email)
        declined = api.anonymous().post("/api/v1/invitations/decline",
                                        json={"token": link["token"]})
        assert declined.status_code == 204
        assert api.alice.http.get("/api/v1/invitations").json() == []
        late = api.carol.http.post("/api/v1/me/invitations/accept",
                                   json={"token": link["token"]})
        assert late.status_code == 404

    def test_inviting_again_replaces_the_link_and_a_member_cannot_be_invited(self,
                                                                            api: Api) -> None:
        email = _address()
        first = _invite(api, api.alice.http, email)
        second = _invite(api, api.alice.http, email)
        stale = api.anonymous().post("/api/v1/invitations/join", json={
            "token": first["token"], "password": OWN_PASSWORD})
        assert stale.status_code == 404
        assert len(api.alice.http.get("/api/v1/invitations").json()) == 1
        assert api.alice.http.delete(f"/api/v1/invitations/{second['id']}").status_code == 204
        member = api.alice.http.post("/api/v1/invitations", json={
            "email": api.bob.email, "name": "Bob"})
        assert member.status_code == 409 and "already an agent here" in member.text

    def test_an_agent_cannot_invite(self, api: Api) -> None:
        answer = api.bob.http.post("/api/v1/invitations", json={"email": _address(),
                                                                "name": "X"})
        assert answer.status_code == 403


class TestRemovingAMember:
    def _carol_in_acme(self, api: Api) -> httpx.Client:
        link = _invite(api, api.alice.http, api.carol.email)
        api.carol.http.post("/api/v1/me/invitations/accept", json={"token": link["token"]})
        return _session(api, api.carol.email, PASSWORD, api.alice.actor.account_id)

    def test_removal_ends_access_to_this_account_only(self, api: Api) -> None:
        in_acme = self._carol_in_acme(api)
        script = _bearer(api, api.carol.email, PASSWORD, api.alice.actor.account_id)
        thread = customer_writes(api, api.alice)
        conversation = f"/api/v1/conversations/{thread.conversation_id}"
        api.alice.http.patch(conversation, json={"assignee_id": api.carol.agent_id})
        assert api.alice.http.get(conversation).json()["assignee"]["name"] == "Carol Stranger"

        answer = api.alice.http.delete(f"/api/v1/agents/{api.carol.agent_id}")
        assert answer.status_code == 204
        assert in_acme.get("/api/v1/me").status_code == 401
        assert script.get("/api/v1/me").status_code == 401
        assert api.carol.agent_id not in _agent_ids(api)
        assert api.alice.http.get(conversation).json()["assignee"] is None
        assert _login(api, api.carol.email, PASSWORD,
                      api.alice.actor.account_id).status_code == 401
        # Her login and her own account stay.
        assert api.carol.http.get("/api/v1/me").json()["account_id"] == api.carol.actor.account_id
        assert _login(api, api.carol.email, PASSWORD).status_code == 200

    def test_the_last_admin_cannot_be_removed(self, api: Api) -> None:
        answer = api.alice.http.delete(f"/api/v1/agents/{api.alice.agent_id}")
        assert answer.status_code == 409 and "at least one admin" in answer.text
        assert api.bob.http.delete(f"/api/v1/agents/{api.alice.agent_id}").status_code == 403
        assert api.alice.http.get("/api/v1/me").status_code == 200
