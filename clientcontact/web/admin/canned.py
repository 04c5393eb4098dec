"""Canned responses: the account's saved answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.api.deps import DbSession
from clientcontact.canned import service as canned
from clientcontact.db.tenancy import Actor
from clientcontact.web.admin.pages import admin_page
from clientcontact.web.deps import WebAdmin

router = APIRouter()

ShortCode = Annotated[str, Form(min_length=1, max_length=60)]
Content = Annotated[str, Form(min_length=1, max_length=20_000)]


@router.get("/canned")
def canned_list(request: Request, session: DbSession, admin: WebAdmin) -> Response:
    return _canned(request, session, admin)


@router.post("/canned")
def create_canned(request: Request, session: DbSession, admin: WebAdmin,
                  short_code: ShortCode, content: Content) -> Response:
    canned.save_canned(session, admin, short_code=short_code, content=content)
    return _canned(request, session, admin)


@router.post("/canned/{canned_id}")
def update_canned(canned_id: int, request: Request, session: DbSession, admin: WebAdmin,
                  short_code: ShortCode, content: Content) -> Response:
    canned.save_canned(session, admin, short_code=short_code, content=content,
                       canned_id=canned_id)
    return _canned(request, session, admin)


@router.post("/canned/{canned_id}/delete")
def delete_canned(canned_id: int, request: Request, session: DbSession,
                  admin: WebAdmin) -> Response:
    canned.delete_canned(session, admin, canned_id)
    return _canned(request, session, admin)


def _canned(request: Request, session: Session, admin: Actor) -> Response:
    return admin_page(request, session, admin, "canned", {
        "responses": canned.list_canned(session, admin),
        "placeholders": canned.PLACEHOLDERS})
