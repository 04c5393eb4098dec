"""The frame every admin page shares."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.db.tenancy import Actor
from clientcontact.web.deps import viewer
from clientcontact.web.templating import render

TABS = [("inboxes", "Inboxes"), ("agents", "Agents"), ("teams", "Teams"),
        ("tokens", "API tokens"), ("canned", "Canned responses")]


def admin_page(request: Request, session: Session, actor: Actor, tab: str,
               context: dict[str, Any]) -> Response:
    return render(request, f"admin/{tab}.html",
                  {"viewer": viewer(session, actor), "tabs": TABS, "tab": tab, **context})
