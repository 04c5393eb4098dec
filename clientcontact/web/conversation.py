"""Reading a conversation: the whole screen, and the fragments live updates fetch."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clientcontact.api.deps import AppRuntime, DbSession
from clientcontact.conversations.messages import get_message
from clientcontact.conversations.models import Direction
from clientcontact.conversations.service import get_conversation
from clientcontact.errors import NotFound
from clientcontact.web.attachments import inline_images
from clientcontact.web.deps import WebActor
from clientcontact.web.inbox import chrome, list_context
from clientcontact.web.listing import ListQuery
from clientcontact.web.screens import account_agents, load_conversation, load_thread_after
from clientcontact.web.security import EMAIL_BODY_CSP
from clientcontact.web.templating import htmx_target, render

router = APIRouter()


@router.get("/conversations/{conversation_id}")
def conversation_page(conversation_id: int, request: Request, session: DbSession,
                      actor: WebActor) -> Response:
    screen = load_conversation(session, actor, conversation_id)
    context = {"screen": screen, "conversation": screen.conversation}
    if htmx_target(request) == "conversation-pane":
        return render(request, "conversation/pane.html", context)
    query = ListQuery.from_params(dict(request.query_params))
    return render(request, "inbox.html", {
        **context, **list_context(session, actor, query, open_id=conversation_id),
        **chrome(session, actor)})


@router.get("/conversations/{conversation_id}/messages")
def thread_after(conversation_id: int, request: Request, session: DbSession, actor: WebActor,
                 after: int = Query(0, ge=0)) -> Response:
    conversation, messages, agents = load_thread_after(session, actor, conversation_id, after)
    return render(request, "conversation/messages.html", {
        "conversation": conversation, "messages": messages, "agents": agents})


@router.get("/conversations/{conversation_id}/header")
def conversation_header(conversation_id: int, request: Request, session: DbSession,
                        actor: WebActor) -> Response:
    screen = load_conversation(session, actor, conversation_id, mark_read=False,
                               with_thread=False)
    return render(request, "conversation/header.html",
                  {"screen": screen, "conversation": screen.conversation})


@router.get("/messages/{message_id}")
def message_fragment(message_id: int, request: Request, session: DbSession,
                     actor: WebActor) -> Response:
    """One message again, after its delivery status moved."""
    message = get_message(session, actor, message_id)
    conversation = get_conversation(session, actor, message.conversation_id)
    return render(request, "conversation/message.html", {
        "message": message, "conversation": conversation,
        "agents": account_agents(session, actor)})


@router.get("/messages/{message_id}/body")
def email_body(message_id: int, session: DbSession, actor: WebActor, runtime: AppRuntime,
               images: bool = False) -> Response:
    """An email's sanitized HTML, only ever loaded into a sandboxed frame, under a CSP that
    forbids every script: sanitizing is the first wall, the frame and the CSP the second.

    Inline images (`cid:`) show at once, from this site; remote images (tracking pixels,
    often) stay blocked until the agent asks for them."""
    message = get_message(session, actor, message_id)
    if not message.html:
        raise NotFound("this message has no HTML body")
    html, policy = inline_images(session, actor, runtime, message, message.html), EMAIL_BODY_CSP
    if images:
        # The sanitizer wrote these attributes itself (name="value", quotes escaped).
        html = html.replace(' data-blocked-src="', ' src="')
        policy = policy.replace("img-src data: cid:", "img-src data: cid: https: http:")
    colour = "#1f2933" if message.direction is Direction.IN else "#243b53"
    document = ("<!doctype html><html><head><meta charset='utf-8'><base target='_blank'>"
                f"<style>body{{font:14px/1.5 system-ui,sans-serif;color:{colour};margin:0;"
                "overflow-wrap:anywhere}img{max-width:100%;height:auto}"
                # Mail is laid out for a desktop: wrap what can wrap to the frame's width.
                "table{max-width:100%}pre{white-space:pre-wrap}</style></head><body>"
                f"{html}</body></html>")
    return Response(document, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "SAMEORIGIN"})
