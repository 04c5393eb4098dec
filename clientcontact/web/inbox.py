"""The inbox: the conversation list with its views, filters, search and paging."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.accounts.teams import list_teams
from clientcontact.api.deps import DbSession
from clientcontact.channels.base import ChannelKind
from clientcontact.conversations.tags import list_tags
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import list_inboxes
from clientcontact.web.deps import WebActor, viewer
from clientcontact.web.listing import STATUSES, VIEW_LABELS, ListQuery, load_list
from clientcontact.web.templating import render

router = APIRouter()


@router.get("/")
def inbox_page(request: Request, session: DbSession, actor: WebActor) -> Response:
    query = ListQuery.from_params(dict(request.query_params))
    return render(request, "inbox.html", {**list_context(session, actor, query),
                                          **chrome(session, actor)})


@router.get("/inbox/list")
def inbox_list(request: Request, session: DbSession, actor: WebActor) -> Response:
    """The list pane after a filter, a search or a live update; the address bar follows."""
    query = ListQuery.from_params(dict(request.query_params))
    open_id = request.query_params.get("open", "")
    context = list_context(session, actor, query,
                           open_id=int(open_id) if open_id.isdigit() else None)
    if request.headers.get("x-live-refresh"):  # a live update must not move the address bar
        return render(request, "inbox/list_pane.html", context)
    params = query.params(cursor=None)
    return render(request, "inbox/list_pane.html", context,
                  headers={"HX-Push-Url": f"/?{params}" if params else "/"})


@router.get("/inbox/more")
def inbox_more(request: Request, session: DbSession, actor: WebActor) -> Response:
    query = ListQuery.from_params(dict(request.query_params))
    listing = load_list(session, actor, query, with_counts=False)
    return render(request, "inbox/rows.html", {"listing": listing, "open_id": None})


def list_context(session: Session, actor: Actor, query: ListQuery,
                 open_id: int | None = None) -> dict[str, Any]:
    return {
        "listing": load_list(session, actor, query), "open_id": open_id,
        "view_labels": VIEW_LABELS, "statuses": STATUSES, "channels": list(ChannelKind),
        "inboxes": list_inboxes(session, actor), "teams": list_teams(session, actor),
        "tags": list_tags(session, actor),
    }


def chrome(session: Session, actor: Actor) -> dict[str, Any]:
    """What the page frame around every screen needs."""
    return {"viewer": viewer(session, actor)}
