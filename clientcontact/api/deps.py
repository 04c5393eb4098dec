"""Typed dependencies every route takes: `session: DbSession, actor: CurrentActor`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from clientcontact.accounts.passwords import PasswordChangeRequired, owes_new_password
from clientcontact.accounts.service import actor_from_api_token, actor_from_login_session
from clientcontact.api.csrf import require_api_csrf
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Forbidden, Unauthenticated
from clientcontact.runtime import Runtime
from clientcontact.settings import Settings

SESSION_COOKIE = "cc_session"
PASSWORD_PAGE = "/account/password"  # the UI's
# All an agent who owes a new password may reach with the login cookie, in the UI and the API.
PASSWORD_EXEMPT_PATHS = frozenset({"/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout",
                                   PASSWORD_PAGE, "/logout"})


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    """The request's unit of work: committed once when the route returns, rolled back on error."""
    with unit_of_work(runtime.factory) as session:
        yield session


def get_settings(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Settings:
    return runtime.settings


AppRuntime = Annotated[Runtime, Depends(get_runtime)]
# "function" scope: the commit happens before the response is sent, so a 2xx means saved.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def get_actor(request: Request, session: DbSession) -> Actor:
    """A bearer API token, else the login cookie; both resolve to an agent in one account.
    With the cookie, a state-changing request must carry the CSRF token too."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return actor_from_api_token(session, token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("log in, or send an API token as 'Authorization: Bearer <token>'")
    actor = cookie_actor(request, session, cookie)
    require_api_csrf(request, cookie)
    return actor


def cookie_actor(request: Request, session: Session, cookie: str) -> Actor:
    """The agent behind the login cookie, for every route that accepts it (UI pages, files,
    live events, the API). One who still has a one-time password someone else chose reaches
    nothing but choosing their own: PasswordChangeRequired."""
    actor = actor_from_login_session(session, cookie)
    if owes_new_password(session, actor) and request.url.path not in PASSWORD_EXEMPT_PATHS:
        raise PasswordChangeRequired("choose your own password first: POST /api/v1/me/password "
                                     "with the one-time password as current_password")
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


def client_ip(request: Request) -> str:
    """Who is calling, for the login throttle: the connection's peer, which the server
    replaces with the X-Forwarded-For client only when the peer is one of TRUSTED_PROXIES
    (`cli.proxy_options`)."""
    return request.client.host if request.client else "?"


def get_admin(actor: CurrentActor) -> Actor:
    if not actor.is_admin:
        raise Forbidden("only an admin of this account can do that")
    return actor


CurrentAdmin = Annotated[Actor, Depends(get_admin)]
