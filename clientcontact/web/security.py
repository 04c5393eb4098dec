"""What keeps the UI safe to use: CSRF tokens and the Content-Security-Policy (login
throttling is in `accounts/login_throttle.py`).

CSRF: a token bound to the login session (an HMAC of the session cookie with SECRET_KEY), or,
before login, to a random pre-session cookie. Every state-changing request must send it back,
as the X-CSRF-Token header (htmx sends it on every request) or a `csrf_token` form field. A
page on another site can neither read the token nor compute it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from clientcontact.api.deps import SESSION_COOKIE
from clientcontact.errors import Forbidden

PRE_SESSION_COOKIE = "cc_presession"
LOGIN_PATH = "/login"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# UI pages: our own scripts and styles only; no inline script, no framing by other sites.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'")
# An email body: no script at all, inline styles (mail layout lives in them), inline images
# (data: URLs, and `cid:` parts rewritten to our own attachment route, hence 'self').
EMAIL_BODY_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data: cid: 'self'; "
                  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox")
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _secret(request: Request) -> bytes:
    state = request.app.state
    if getattr(state, "csrf_secret", None) is None:
        key = request.app.state.runtime.settings.resolved_secret_key()
        state.csrf_secret = hashlib.sha256(b"clientcontact-csrf|" + key.encode()).digest()
    return state.csrf_secret


def csrf_binding(request: Request) -> str | None:
    """The login form is bound to the pre-session cookie even if a stale session cookie
    lingers; everything else to the login session."""
    if request.url.path == LOGIN_PATH:
        return request.cookies.get(PRE_SESSION_COOKIE)
    return request.cookies.get(SESSION_COOKIE)


def csrf_token_for(request: Request, binding: str | None) -> str:
    if not binding:
        return ""
    return hmac.new(_secret(request), binding.encode(), hashlib.sha256).hexdigest()


def new_pre_session() -> str:
    return secrets.token_urlsafe(24)


async def require_csrf(request: Request) -> None:
    """Router dependency: refuse a state-changing request without the page's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = csrf_token_for(request, csrf_binding(request))
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("this form has expired or came from another site; reload the page")
