"""Logging in and out of the UI. The cookie is the same login session the REST API accepts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clientcontact.accounts import service as accounts
from clientcontact.api.deps import SESSION_COOKIE, AppRuntime, AppSettings, DbSession, client_ip
from clientcontact.api.errors import error_headers
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Forbidden, TooManyAttempts, Unauthenticated
from clientcontact.settings import Settings
from clientcontact.web.security import PRE_SESSION_COOKIE, new_pre_session
from clientcontact.web.templating import render

router = APIRouter()

# Without "remember me" the cookie dies with the browser and the server forgets it in a day.
UNREMEMBERED_MAX_AGE = timedelta(hours=24)


def safe_next(value: str | None) -> str:
    """Only a path on this site: `next` must never send someone to another host."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


@router.get("/login")
def login_page(request: Request, settings: AppSettings, next: str | None = None) -> Response:
    return _login_form(request, settings, next=safe_next(next))


@router.post("/login")
def login(request: Request, session: DbSession, runtime: AppRuntime, settings: AppSettings,
          email: Annotated[str, Form(max_length=320)],
          password: Annotated[str, Form(max_length=1000)],
          remember: Annotated[bool, Form()] = False,
          next: Annotated[str, Form()] = "/") -> Response:
    try:
        actor = runtime.logins.log_in(session, client_ip(request), email, password)
    except Unauthenticated:
        return _login_form(request, settings, next=next, email=email,
                           error="Wrong email or password.", status_code=401)
    except (TooManyAttempts, Forbidden) as exc:
        return _login_form(request, settings, next=next, email=email, error=exc.message,
                           status_code=exc.status_code, headers=error_headers(exc))
    return logged_in(session, settings, actor, next=safe_next(next), remember=remember)


def logged_in(session: Session, settings: Settings, actor: Actor, *, next: str,
              remember: bool = False) -> Response:
    """Start a login session for `actor` and send the browser to `next` with its cookie."""
    max_age = timedelta(days=settings.login_max_age_days) if remember else UNREMEMBERED_MAX_AGE
    token = accounts.start_login_session(session, actor, max_age=max_age)
    response = RedirectResponse(next, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure,
                        max_age=int(max_age.total_seconds()) if remember else None)
    response.delete_cookie(PRE_SESSION_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, settings: AppSettings) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_login_session(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, secure=settings.cookie_secure, httponly=True,
                           samesite="lax")
    if request.headers.get("hx-request") == "true":
        response.headers["HX-Redirect"] = "/login"
    return response


def _login_form(request: Request, settings: Settings, *, next: str, email: str = "",
                error: str | None = None, status_code: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    return render_before_login(request, settings, "login.html",
                               {"next": next, "email": email, "error": error},
                               status_code=status_code, headers=headers)


def render_before_login(request: Request, settings: Settings, name: str,
                        context: dict[str, Any], *, status_code: int = 200,
                        headers: dict[str, str] | None = None) -> Response:
    """A pre-session cookie gives the page's forms a CSRF token before anyone is logged in."""
    pre_session = request.cookies.get(PRE_SESSION_COOKIE) or new_pre_session()
    response = render(request, name, context, status_code=status_code, headers=headers,
                      binding=pre_session)
    response.set_cookie(PRE_SESSION_COOKIE, pre_session, httponly=True, samesite="lax",
                        secure=settings.cookie_secure)
    return response
