"""One login throttle for every way of trying a password: the API, the UI form and a password
change count together, per client address, and a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import new_agent
from tests.harness import PASSWORD, Api, AppServer, cookie_login
from tests.web.helpers import attempt_login

LIMIT = 5


@pytest.fixture
def dora(api: Api) -> str:
    return new_agent(api, "Dora")


def api_login(client: httpx.Client, email: str, password: str,
              **headers: str) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       headers=headers)


def test_the_api_refuses_even_the_right_password_after_too_many_failures(
        api: Api, dora: str) -> None:
    client = api.anonymous()
    for _ in range(LIMIT):
        assert api_login(client, dora, "guess").status_code == 401
    refused = api_login(client, dora, PASSWORD)
    assert refused.status_code == 429
    assert "too many failed logins; try again in 15 minutes" in refused.json()["error"]["message"]
    assert 840 < int(refused.headers["Retry-After"]) <= 900
    assert api_login(client, api.alice.email, PASSWORD).status_code == 200  # others unaffected


def test_the_ui_and_the_api_share_one_count(api: Api, dora: str) -> None:
    with api.anonymous() as client, api.anonymous() as browser:
        for _ in range(3):
            assert api_login(client, dora, "guess").status_code == 401
        for _ in range(LIMIT - 3):
            assert attempt_login(browser, dora, "guess").status_code == 401
        assert api_login(client, dora, PASSWORD).status_code == 429
        form = attempt_login(browser, dora, PASSWORD)
        assert form.status_code == 429 and "too many failed logins" in form.text
        assert form.headers["Retry-After"].isdigit()


def test_wrong_current_passwords_count_as_guesses(api: Api, dora: str) -> None:
    """A stolen session must not become a way round the throttle to the password itself."""
    with api.anonymous() as client:
        assert cookie_login(client, dora).status_code == 200
        for _ in range(LIMIT):
            wrong = client.post("/api/v1/me/password", json={
                "current_password": "guess", "new_password": "a-new-password-1"})
            assert wrong.status_code == 400
        right = client.post("/api/v1/me/password", json={
            "current_password": PASSWORD, "new_password": "a-new-password-1"})
        assert right.status_code == 429
        assert api_login(client, dora, PASSWORD).status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_count(api: Api, dora: str) -> None:
    client = api.anonymous()
    for n in range(LIMIT):
        assert api_login(client, dora, "guess",
                         **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 401
    assert api_login(client, dora, PASSWORD,
                     **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429


def test_a_trusted_proxy_names_the_client(api: Api, dora: str) -> None:
    """Behind a proxy TRUSTED_PROXIES names, each client behind it has its own count."""
    url = api.server.runtime.engine.url.render_as_string(hide_password=False)
    proxied = AppServer.start(database_url=url, data_dir=api.settings.data_dir,
                              trusted_proxies="127.0.0.1")
    try:
        with httpx.Client(base_url=proxied.base_url) as proxy:
            for _ in range(LIMIT):
                assert api_login(proxy, dora, "guess",
                                 **{"X-Forwarded-For": "198.51.100.1"}).status_code == 401
            assert api_login(proxy, dora, PASSWORD,
                             **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429
            assert api_login(proxy, dora, PASSWORD,
                             **{"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    finally:
        proxied.stop()
