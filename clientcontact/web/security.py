"""What keeps the UI safe to use: CSRF tokens and the Content-Security-Policy (login
throttling is in `accounts/login_throttle.py`).

CSRF (tokens made in `api/csrf.py`): bound to the login session, or, before login, to a random
pre-session cookie. Every state-changing request must send it back, as the X-CSRF-Token header
(htmx sends it on every request) or a `csrf_token` form field.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from clientcontact.api.csrf import CSRF_HEADER, SAFE_METHODS, check_csrf
from clientcontact.api.deps import SESSION_COOKIE

PRE_SESSION_COOKIE = "cc_presession"
LOGIN_PATH = "/login"
INVITATION_PATH = "/invitations/"
CSRF_FIELD = "csrf_token"

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


def csrf_binding(request: Request) -> str | None:
    """The login form is bound to the pre-session cookie even if a stale session cookie
    lingers; an invitation page too when no one is logged in; everything else to the login
    session."""
    if request.url.path == LOGIN_PATH:
        return request.cookies.get(PRE_SESSION_COOKIE)
    login = request.cookies.get(SESSION_COOKIE)
    if login is None and request.url.path.startswith(INVITATION_PATH):
        return request.cookies.get(PRE_SESSION_COOKIE)
    return login


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
    check_csrf(request, csrf_binding(request), sent,
               "this form has expired or came from another site; reload the page")
