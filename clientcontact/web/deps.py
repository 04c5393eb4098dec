"""Who is looking at the UI: the login cookie, else a trip to the login page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from clientcontact.accounts.models import Account, Agent
from clientcontact.accounts.passwords import PasswordChangeRequired
from clientcontact.accounts.service import accounts_of
from clientcontact.api.deps import PASSWORD_PAGE, SESSION_COOKIE, DbSession, cookie_actor
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Forbidden, Unauthenticated
from clientcontact.web.templating import is_htmx


def _redirect(request: Request, path: str, htmx_status: int) -> HTTPException:
    """A full page goes to `path` and comes back; an htmx request asks the page to go there."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = path if target == "/" else f"{path}?next={quote(target, safe='')}"
    if is_htmx(request):
        return HTTPException(htmx_status, "go to " + path, headers={"HX-Redirect": location})
    return HTTPException(303, "go to " + path, headers={"Location": location})


def login_redirect(request: Request) -> HTTPException:
    return _redirect(request, "/login", 401)


def get_web_actor(request: Request, session: DbSession) -> Actor:
    """The agent behind the login cookie, else a trip to the login page."""
    actor = web_actor_or_none(request, session)
    if actor is None:
        raise login_redirect(request)
    return actor


def web_actor_or_none(request: Request, session: Session) -> Actor | None:
    """None without a live login cookie; one who still has a one-time password is sent to
    choose their own before anything else."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return cookie_actor(request, session, cookie)
    except Unauthenticated:
        return None
    except PasswordChangeRequired:
        raise _redirect(request, PASSWORD_PAGE, 403) from None


WebActor = Annotated[Actor, Depends(get_web_actor)]


def get_web_admin(actor: WebActor) -> Actor:
    if not actor.is_admin:
        raise Forbidden("only an admin of this account can do that")
    return actor


WebAdmin = Annotated[Actor, Depends(get_web_admin)]


@dataclass(frozen=True)
class Viewer:
    """What every page's chrome shows about the person using it."""

    actor: Actor
    agent: Agent
    accounts: list[Account]  # every account the agent works in, for the switcher

    @property
    def is_admin(self) -> bool:
        return self.actor.is_admin


def viewer(session: Session, actor: Actor) -> Viewer:
    agent = session.get(Agent, actor.agent_id)
    assert agent is not None
    return Viewer(actor, agent, accounts_of(session, agent.id))
