"""Login and logout (session cookie), who am I, and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from clientcontact.accounts import service as accounts
from clientcontact.api.csrf import CSRF_HEADER, csrf_token_for, require_api_csrf
from clientcontact.api.deps import (
    SESSION_COOKIE,
    AppRuntime,
    AppSettings,
    CurrentActor,
    DbSession,
    client_ip,
)
from clientcontact.api.error_docs import error_responses
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Unauthenticated
from clientcontact.inputs import Id, OneLine, PlainText

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    email: OneLine = Field(min_length=3, max_length=320)
    password: PlainText = Field(min_length=1, max_length=1000)
    account_id: Id | None = None


class MeOut(BaseModel):
    agent_id: int
    account_id: int
    role: str
    name: str
    email: str
    must_change_password: bool


class LoginOut(MeOut):
    csrf_token: str = Field(description=f"send it as the {CSRF_HEADER} header with every "
                                        "POST, PUT, PATCH or DELETE made with the login cookie")


class PasswordIn(BaseModel):
    current_password: PlainText = Field(min_length=1, max_length=1000)
    new_password: PlainText = Field(min_length=1, max_length=1000)


class TokenIn(BaseModel):
    name: OneLine = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once: only a digest is stored")


@router.post("/auth/login", response_model=LoginOut, responses=error_responses(401, 403, 429))
def login(body: LoginIn, request: Request, response: Response, session: DbSession,
          runtime: AppRuntime, settings: AppSettings) -> LoginOut:
    """Throttled with the UI's login: too many failures from one IP for one email give 429.
    The CSRF token comes back in the body and the X-CSRF-Token header."""
    actor = runtime.logins.log_in(session, client_ip(request), body.email, body.password,
                                  body.account_id)
    max_age = timedelta(days=settings.login_max_age_days)
    token = accounts.start_login_session(session, actor, max_age=max_age)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(max_age.total_seconds()),
                        httponly=True, samesite="lax", secure=settings.cookie_secure)
    csrf_token = csrf_token_for(request, token)
    response.headers[CSRF_HEADER] = csrf_token
    return LoginOut(**_me(session, actor).model_dump(), csrf_token=csrf_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, session: DbSession) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        require_api_csrf(request, cookie)
        accounts.end_login_session(session, cookie)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=MeOut)
def me(session: DbSession, actor: CurrentActor) -> MeOut:
    return _me(session, actor)


def _me(session: DbSession, actor: Actor) -> MeOut:
    agent = accounts.get_member(session, actor, actor.agent_id or 0)
    return MeOut(agent_id=agent.id, account_id=actor.account_id, role=actor.role,
                 name=agent.name, email=agent.email,
                 must_change_password=agent.must_change_password)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT,
             responses=error_responses(429))
def change_my_password(body: PasswordIn, request: Request, session: DbSession,
                       runtime: AppRuntime, actor: CurrentActor) -> None:
    """Ends the agent's other login sessions; the one making the change stays. Wrong current
    passwords count towards the login throttle."""
    runtime.logins.change_password(session, client_ip(request), actor,
                                   current=body.current_password, new=body.new_password,
                                   keep_login=request.cookies.get(SESSION_COOKIE))


@router.get("/api-tokens", response_model=list[TokenOut])
def list_tokens(session: DbSession, actor: CurrentActor) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True)
            for t in accounts.list_api_tokens(session, actor)]


@router.post("/api-tokens", response_model=NewTokenOut, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, session: DbSession, actor: CurrentActor) -> NewTokenOut:
    if actor.agent_id is None:
        raise Unauthenticated("an agent is needed to own a token")
    row, token = accounts.create_api_token(session, actor, body.name)
    return NewTokenOut(**TokenOut.model_validate(row, from_attributes=True).model_dump(),
                       token=token)


@router.delete("/api-tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: Id, session: DbSession, actor: CurrentActor) -> TokenOut:
    return TokenOut.model_validate(accounts.revoke_api_token(session, actor, token_id),
                                   from_attributes=True)
