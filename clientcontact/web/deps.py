"""Who is looking at the UI: the login cookie, else a trip to the login page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from clientcontact.accounts.models import Agent
from clientcontact.accounts.service import actor_from_login_session
from clientcontact.api.deps import SESSION_COOKIE, DbSession
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Forbidden, Unauthenticated
from clientcontact.web.templating import is_htmx


def login_redirect(request: Request) -> HTTPException:
    """A full page goes to /login and comes back; an htmx request asks the page to go there."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
    if is_htmx(request):
        return HTTPException(401, "log in again", headers={"HX-Redirect": location})
    return HTTPException(303, "log in first", headers={"Location": location})


def get_web_actor(request: Request, session: DbSession) -> Actor:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            return actor_from_login_session(session, cookie)
        except Unauthenticated:
            pass
    raise login_redirect(request)


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

    @property
    def is_admin(self) -> bool:
        return self.actor.is_admin


def viewer(session: Session, actor: Actor) -> Viewer:
    agent = session.get(Agent, actor.agent_id)
    assert agent is not None
    return Viewer(actor, agent)
