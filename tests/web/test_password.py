"""An invited agent chooses their own password before working; anyone can change theirs."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Role
from tests.builders import customer_writes, new_agent
from tests.harness import PASSWORD, Api, cookie_login
from tests.web.helpers import TOKEN_IN_FORM, attempt_login

NEW_PASSWORD = "a-password-of-my-own"


def _choose(ui: httpx.Client, current: str, new: str, repeat: str | None = None,
            next: str = "/") -> httpx.Response:
    page = ui.get("/account/password")
    found = TOKEN_IN_FORM.search(page.text)
    assert found is not None
    return ui.post("/account/password", data={
        "current": current, "new": new, "repeat": new if repeat is None else repeat,
        "next": next, "csrf_token": found.group(1)})


@pytest.fixture
def invited(api: Api) -> tuple[str, str]:
    """An agent's email and the one-time password an admin passed on, as invites gave them
    before invitation links (such logins still owe a password of their own)."""
    email = f"dan-{uuid.uuid4().hex[:6]}@acme.test"
    password = "one-time-" + uuid.uuid4().hex[:8]
    with api.session() as session:
        dan = accounts.create_agent(session, email=email, name="Dan Newhire", password=password)
        dan.must_change_password = True
        accounts.add_member(session, session.get_one(Account, api.alice.actor.account_id), dan,
                            Role.AGENT)
    return email, password


def test_an_invited_agent_must_choose_a_password_before_anything_else(
        ui: httpx.Client, invited: tuple[str, str]) -> None:
    email, one_time = invited
    assert attempt_login(ui, email, one_time).status_code == 303
    first = ui.get("/conversations/1")
    assert first.status_code == 303
    assert first.headers["location"] == "/account/password?next=%2Fconversations%2F1"
    page = ui.get(first.headers["location"])
    assert page.status_code == 200 and "Choose your password" in page.text
    live = ui.get("/inbox/list", headers={"HX-Request": "true"})
    assert live.status_code == 403 and live.headers["HX-Redirect"].startswith("/account/password")
    api_call = ui.get("/api/v1/conversations")
    assert api_call.status_code == 403
    assert "POST /api/v1/me/password" in api_call.json()["error"]["message"]
    assert ui.get("/api/v1/me").json()["must_change_password"] is True


def test_a_chosen_password_replaces_the_one_time_password(
        ui: httpx.Client, api: Api, invited: tuple[str, str]) -> None:
    email, one_time = invited
    attempt_login(ui, email, one_time)
    assert "differ" in _choose(ui, one_time, NEW_PASSWORD, repeat="something else").text
    assert "at least 10 characters" in _choose(ui, one_time, "short").text
    wrong = _choose(ui, "not-the-one-time-password", NEW_PASSWORD)
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    done = _choose(ui, one_time, NEW_PASSWORD, next="/?view=mine")
    assert done.status_code == 303 and done.headers["location"] == "/?view=mine"
    assert ui.get("/").status_code == 200
    assert ui.get("/api/v1/me").json()["must_change_password"] is False
    with httpx.Client(base_url=api.server.base_url) as other:
        assert attempt_login(other, email, one_time).status_code == 401
        assert attempt_login(other, email, NEW_PASSWORD).status_code == 303


def test_changing_a_password_ends_the_other_sessions(api: Api) -> None:
    email = new_agent(api, "Erin")
    with httpx.Client(base_url=api.server.base_url) as laptop, \
            httpx.Client(base_url=api.server.base_url) as phone:
        assert attempt_login(laptop, email, PASSWORD).status_code == 303
        assert attempt_login(phone, email, PASSWORD).status_code == 303
        assert "Change your password" in phone.get("/account/password").text
        assert _choose(phone, PASSWORD, NEW_PASSWORD).status_code == 303
        assert phone.get("/").status_code == 200  # the session that made the change stays
        assert laptop.get("/").status_code == 303  # the laptop must log in again
        assert laptop.get("/api/v1/me").status_code == 401


def test_the_api_changes_a_password_too(api: Api, invited: tuple[str, str]) -> None:
    email, one_time = invited
    with httpx.Client(base_url=api.server.base_url) as client:
        cookie_login(client, email, one_time)
        assert client.get("/api/v1/conversations").status_code == 403
        short = client.post("/api/v1/me/password", json={"current_password": one_time,
                                                         "new_password": "short"})
        assert short.status_code == 400
        assert client.post("/api/v1/me/password", json={
            "current_password": one_time, "new_password": NEW_PASSWORD}).status_code == 204
        assert client.get("/api/v1/conversations").status_code == 200


def test_until_then_no_file_or_live_stream_is_served_either(
        ui: httpx.Client, api: Api, invited: tuple[str, str]) -> None:
    """The one-time password passed through the admin's hands: it opens nothing else."""
    thread = customer_writes(api, api.alice)
    reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages", json={
        "text": "see attached", "attachments": [{
            "filename": "contract.txt", "data_base64": base64.b64encode(b"secret").decode()}]})
    attachment = reply.json()["attachments"][0]["id"]
    email, one_time = invited
    attempt_login(ui, email, one_time)
    download = ui.get(f"/attachments/{attachment}")
    assert download.status_code == 303
    assert download.headers["location"].startswith("/account/password")
    assert ui.get(f"/api/v1/attachments/{attachment}").status_code == 403
    events = ui.get("/events")
    assert events.status_code == 303 and b"data:" not in events.content
    assert _choose(ui, one_time, NEW_PASSWORD).status_code == 303
    assert ui.get(f"/attachments/{attachment}").content == b"secret"
