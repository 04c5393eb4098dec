"""The agent's own login: choosing a password (owed after an invite, open to everyone) and
switching between the accounts they work in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from clientcontact.accounts.passwords import MIN_LENGTH, owes_new_password
from clientcontact.accounts.service import switch_login_account
from clientcontact.api.deps import PASSWORD_PAGE, SESSION_COOKIE, AppRuntime, DbSession, client_ip
from clientcontact.api.errors import error_headers
from clientcontact.errors import BadRequest, TooManyAttempts
from clientcontact.web.auth import safe_next
from clientcontact.web.deps import WebActor, viewer
from clientcontact.web.templating import render

router = APIRouter()


@router.get(PASSWORD_PAGE)
def password_page(request: Request, session: DbSession, actor: WebActor,
                  next: str | None = None) -> Response:
    return _form(request, session, actor, next=safe_next(next))


@router.post(PASSWORD_PAGE)
def set_password(request: Request, session: DbSession, runtime: AppRuntime, actor: WebActor,
                 current: Annotated[str, Form(max_length=1000)],
                 new: Annotated[str, Form(max_length=1000)],
                 repeat: Annotated[str, Form(max_length=1000)],
                 next: Annotated[str, Form()] = "/") -> Response:
    try:
        if new != repeat:
            raise BadRequest("the two new passwords differ")
        with session.begin_nested():
            runtime.logins.change_password(session, client_ip(request), actor, current=current,
                                           new=new, keep_login=request.cookies.get(SESSION_COOKIE))
    except (BadRequest, TooManyAttempts) as exc:
        return _form(request, session, actor, next=safe_next(next), error=exc.message,
                     status_code=exc.status_code, headers=error_headers(exc))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/account/switch")
def switch_account(request: Request, session: DbSession, actor: WebActor,
                   account_id: Annotated[int, Form()]) -> Response:
    """The same login, now working in another account: its inbox, from the top."""
    cookie = request.cookies.get(SESSION_COOKIE)
    assert cookie is not None  # WebActor has checked it
    switch_login_account(session, cookie, account_id)
    return RedirectResponse("/", status_code=303)


def _form(request: Request, session: DbSession, actor: WebActor, *, next: str,
          error: str | None = None, status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return render(request, "account/password.html", {
        "viewer": viewer(session, actor), "owed": owes_new_password(session, actor),
        "next": next, "error": error, "min_length": MIN_LENGTH}, status_code=status_code,
        headers=headers)
