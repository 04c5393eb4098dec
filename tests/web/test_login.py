"""Logging in to the UI: clear failures, remember me, throttling, and a safe way back."""

from __future__ import annotations

import uuid

import httpx

from clientcontact.demo import DEMO_PASSWORD
from tests.builders import new_agent
from tests.harness import PASSWORD, Api, AppServer
from tests.web.helpers import TOKEN_IN_FORM, attempt_login, log_in_http


def test_the_inbox_sends_a_stranger_to_the_login_page(ui: httpx.Client) -> None:
    answer = ui.get("/conversations/1?view=mine")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fconversations%2F1%3Fview%3Dmine"


def test_a_wrong_password_says_so_plainly(ui: httpx.Client, api: Api) -> None:
    answer = attempt_login(ui, api.alice.email, "wrong")
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text
    assert api.alice.email in answer.text  # the email stays filled in


def test_remember_me_keeps_the_cookie_past_the_browser_session(ui: httpx.Client,
                                                              api: Api) -> None:
    remembered = attempt_login(ui, api.alice.email, PASSWORD, remember="true")
    cookie = remembered.headers["set-cookie"]
    assert "Max-Age=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    ui.cookies.clear()
    forgotten = attempt_login(ui, api.alice.email, PASSWORD)
    session_cookie = next(v for k, v in forgotten.headers.multi_items()
                          if k == "set-cookie" and v.startswith("cc_session="))
    assert "Max-Age=" not in session_cookie and "HttpOnly" in session_cookie


def test_the_cookie_is_secure_behind_https(api: Api) -> None:
    server = AppServer.start(database_url=str(api.server.runtime.engine.url.render_as_string(
        hide_password=False)), data_dir=api.settings.data_dir, public_url="https://cc.example")
    try:
        with httpx.Client(base_url=server.base_url) as ui:
            form = ui.get("/login")
            assert "Secure" in form.headers["set-cookie"]
            # Over plain HTTP a client keeps Secure cookies to itself; hand it back by name.
            pre_session = form.headers["set-cookie"].split(";")[0]
            found = TOKEN_IN_FORM.search(form.text)
            assert found is not None
            answer = ui.post("/login", headers={"Cookie": pre_session}, data={
                "email": api.alice.email, "password": PASSWORD, "csrf_token": found.group(1)})
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]
    finally:
        server.stop()


def test_repeated_failures_are_throttled_even_for_the_right_password(ui: httpx.Client,
                                                                    api: Api) -> None:
    email = new_agent(api, "Dora")
    for _ in range(5):
        assert attempt_login(ui, email, "guess").status_code == 401
    answer = attempt_login(ui, email, PASSWORD)
    assert answer.status_code == 429
    assert "too many failed logins" in answer.text
    assert attempt_login(ui, api.alice.email, PASSWORD).status_code == 303  # others are unaffected


def test_after_login_only_a_local_page_is_a_destination(ui: httpx.Client, api: Api) -> None:
    answer = attempt_login(ui, api.alice.email, PASSWORD, next="//evil.example/steal")
    assert answer.headers["location"] == "/"
    ui.cookies.clear()
    answer = attempt_login(ui, api.alice.email, PASSWORD, next="/conversations/7")
    assert answer.headers["location"] == "/conversations/7"


def test_logging_out_ends_the_session(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    cookie = ui.cookies["cc_session"]
    assert ui.post("/logout", data={"csrf_token": token}).status_code == 303
    with httpx.Client(base_url=api.server.base_url, cookies={"cc_session": cookie}) as stale:
        assert stale.get("/").status_code == 303
        assert stale.get("/api/v1/me").status_code == 401


def test_two_servers_on_one_redis_throttle_together(
        two_servers: tuple[AppServer, AppServer]) -> None:
    """Behind a balancer, guesses spread over servers still meet one limit."""
    email = f"eve-{uuid.uuid4().hex[:6]}@acme.test"  # Redis keeps the count for the window
    clients = [httpx.Client(base_url=server.base_url) for server in two_servers]
    for n in range(5):
        assert attempt_login(clients[n % 2], email, "guess").status_code == 401
    for ui in clients:
        assert attempt_login(ui, email, "guess").status_code == 429
        ui.close()


def test_the_demos_published_password_opens_nothing_on_a_real_server(
        ui: httpx.Client, api: Api) -> None:
    """The test server is no demo (SEED_DEMO=false): a password printed in the README is
    refused even when it is right, in the UI and the API alike, and says why."""
    email = new_agent(api, "Demo", password=DEMO_PASSWORD)
    form = attempt_login(ui, email, DEMO_PASSWORD)
    assert form.status_code == 403 and "published password" in form.text
    answer = api.anonymous().post("/api/v1/auth/login",
                                  json={"email": email, "password": DEMO_PASSWORD})
    assert answer.status_code == 403
    assert "clientcontact create-admin" in answer.json()["error"]["message"]
