"""API tokens: made here, shown once, revoked here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.accounts import service as accounts
from clientcontact.api.deps import DbSession
from clientcontact.db.tenancy import Actor
from clientcontact.web.admin.pages import admin_page
from clientcontact.web.deps import WebAdmin
from clientcontact.web.screens import account_agents

router = APIRouter()


@router.get("/tokens")
def token_list(request: Request, session: DbSession, admin: WebAdmin) -> Response:
    return _tokens(request, session, admin)


@router.post("/tokens")
def create_token(request: Request, session: DbSession, admin: WebAdmin,
                 name: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    _, token = accounts.create_api_token(session, admin, name.strip())
    return _tokens(request, session, admin, new_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, session: DbSession,
                 admin: WebAdmin) -> Response:
    accounts.revoke_api_token(session, admin, token_id)
    return _tokens(request, session, admin)


def _tokens(request: Request, session: Session, admin: Actor,
            new_token: str | None = None) -> Response:
    return admin_page(request, session, admin, "tokens", {
        "tokens": accounts.list_api_tokens(session, admin),
        "agents": account_agents(session, admin), "new_token": new_token})
