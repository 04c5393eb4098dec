"""CSRF tokens, one kind for the UI and the REST API: an HMAC of the login cookie (or, before
login, of the UI's pre-session cookie) with SECRET_KEY. A page on another site can neither
read the token nor compute it, so a request that carries it was made by our page or by a
client that logged in itself.

Requests authenticated by a bearer token need none: a browser never adds that header on its
own, so another site cannot make one ride on a victim's login.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from clientcontact.errors import Forbidden

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _secret(request: Request) -> bytes:
    state = request.app.state
    if getattr(state, "csrf_secret", None) is None:
        key = request.app.state.runtime.settings.resolved_secret_key()
        state.csrf_secret = hashlib.sha256(b"clientcontact-csrf|" + key.encode()).digest()
    return state.csrf_secret


def csrf_token_for(request: Request, binding: str | None) -> str:
    if not binding:
        return ""
    return hmac.new(_secret(request), binding.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, binding: str | None, sent: str | None, message: str) -> None:
    """Refuse a state-changing request whose token is missing or not this binding's."""
    if request.method in SAFE_METHODS:
        return
    expected = csrf_token_for(request, binding)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(message)


def require_api_csrf(request: Request, login_cookie: str) -> None:
    """For a REST request authenticated by the login cookie."""
    check_csrf(request, login_cookie, request.headers.get(CSRF_HEADER),
               f"a request made with the login cookie needs the {CSRF_HEADER} header: the "
               "csrf_token that POST /api/v1/auth/login returned")
