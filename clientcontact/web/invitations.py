"""The page an invitation link opens. The person accepts with their session or their own
password, or, new here, chooses the password of their new login; or declines. Nothing here
sets the password of a login that already exists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clientcontact.accounts import invitations
from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Agent
from clientcontact.accounts.passwords import MIN_LENGTH
from clientcontact.api.deps import SESSION_COOKIE, AppSettings, DbSession, client_ip, get_runtime
from clientcontact.errors import BadRequest, ClientContactError, Unauthenticated
from clientcontact.settings import Settings
from clientcontact.web.auth import logged_in, render_before_login
from clientcontact.web.templating import render

router = APIRouter()

Password = Annotated[str, Form(max_length=1000)]


@router.get("/invitations/{token}")
def invitation_page(token: str, request: Request, session: DbSession,
                    settings: AppSettings) -> Response:
    return _page(request, session, settings, token)


@router.post("/invitations/{token}/accept")
def accept(token: str, request: Request, session: DbSession, settings: AppSettings,
           password: Password = "") -> Response:
    """Logged in as the invited address, one click; otherwise that login's password."""
    try:
        invitation = invitations.invitation_for(session, token)
        agent = _logged_in_agent(request, session)
        by_session = agent is not None and agent.email == invitation.email and not password
        if not by_session:
            agent = _verified(request, session, invitation.email, password)
        assert agent is not None
        with session.begin_nested():
            actor = invitations.accept(session, token, agent)
    except ClientContactError as exc:
        return _page(request, session, settings, token, error=exc.message,
                     status_code=exc.status_code)
    cookie = request.cookies.get(SESSION_COOKIE)
    if by_session and cookie:
        accounts.switch_login_account(session, cookie, actor.account_id)
        return RedirectResponse("/", status_code=303)
    _end_login(session, cookie)
    return logged_in(session, settings, actor, next="/")


@router.post("/invitations/{token}/join")
def join(token: str, request: Request, session: DbSession, settings: AppSettings,
         password: Password, repeat: Password,
         name: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        if password != repeat:
            raise BadRequest("the two passwords differ")
        with session.begin_nested():
            actor = invitations.join(session, token, name=name, password=password)
    except ClientContactError as exc:
        return _page(request, session, settings, token, error=exc.message,
                     status_code=exc.status_code)
    _end_login(session, request.cookies.get(SESSION_COOKIE))
    return logged_in(session, settings, actor, next="/")


@router.post("/invitations/{token}/decline")
def decline(token: str, request: Request, session: DbSession,
            settings: AppSettings) -> Response:
    try:
        invitations.decline(session, token)
    except ClientContactError as exc:
        return _page(request, session, settings, token, error=exc.message,
                     status_code=exc.status_code)
    return render(request, "invitation.html", {"declined": True})


def _verified(request: Request, session: Session, email: str, password: str) -> Agent:
    """The invited address's own login, by its password, throttled like the login form."""
    if not password:
        raise BadRequest(f"type the password of {email}, or choose one below if you are new")
    return get_runtime(request).logins.verify(session, client_ip(request), email, password)


def _logged_in_agent(request: Request, session: Session) -> Agent | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        actor = accounts.actor_from_login_session(session, cookie)
    except Unauthenticated:
        return None
    return session.get(Agent, actor.agent_id)


def _end_login(session: Session, cookie: str | None) -> None:
    """Whoever was logged in on this browser before is logged out by the new login."""
    if cookie:
        accounts.end_login_session(session, cookie)


def _page(request: Request, session: Session, settings: Settings, token: str, *,
          error: str | None = None, status_code: int = 200) -> Response:
    invitation, account = None, None
    try:
        invitation = invitations.invitation_for(session, token)
        account = session.get(Account, invitation.account_id)
    except ClientContactError as exc:
        error, status_code = exc.message, exc.status_code
    agent = _logged_in_agent(request, session)
    context = {"invitation": invitation, "account": account, "token": token, "error": error,
               "agent": agent, "min_length": MIN_LENGTH}
    if request.cookies.get(SESSION_COOKIE):
        return render(request, "invitation.html", context, status_code=status_code)
    return render_before_login(request, settings, "invitation.html", context,
                               status_code=status_code)
