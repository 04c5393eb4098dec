"""Using the UI over plain HTTP, as a browser would: cookies, the CSRF token, htmx headers."""

from __future__ import annotations

import re

import httpx

from tests.harness import PASSWORD, Person

TOKEN_IN_FORM = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_IN_PAGE = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def log_in_http(client: httpx.Client, person: Person, *, remember: bool = False) -> str:
    """Log in through the form; returns the CSRF token the logged-in pages carry."""
    form = client.get("/login")
    token = TOKEN_IN_FORM.search(form.text)
    assert token is not None
    data = {"email": person.email, "password": PASSWORD, "csrf_token": token.group(1)}
    if remember:
        data["remember"] = "true"
    answer = client.post("/login", data=data)
    assert answer.status_code == 303, answer.text
    page = client.get("/")
    found = TOKEN_IN_PAGE.search(page.text)
    assert found is not None
    return found.group(1)


def attempt_login(client: httpx.Client, email: str, password: str,
                  **extra: str) -> httpx.Response:
    """One try at the login form, whatever its outcome."""
    form = client.get("/login")
    found = TOKEN_IN_FORM.search(form.text)
    assert found is not None
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": found.group(1), **extra})


def htmx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": token}
