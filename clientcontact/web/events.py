"""Live updates: a Server-Sent Events stream of the account's changes, fed by the event bus.

Events carry ids only ("message 7 of conversation 3 changed"); the page then fetches what it
shows through the ordinary, authorized routes, so the stream never leaks content.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from clientcontact.accounts.access import ACCESS_CHANGED
from clientcontact.accounts.service import actor_from_login_session
from clientcontact.api.deps import SESSION_COOKIE, AppRuntime
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Unauthenticated
from clientcontact.realtime.bus import EventBus
from clientcontact.web.deps import WebActor

router = APIRouter()

# How often a stream checks that its login still opens the account (three lookups by key,
# off the event loop), and sends a comment line that keeps proxies, which close a silent
# connection, from closing it.
RECHECK_SECONDS = 5.0


class EventStream(StreamingResponse):
    """A stream that never ends by itself: when the server stops, uvicorn cancels it after its
    grace period. For this response that is the normal way out, not an error to log."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # end the body, so the browser reconnects
                await send({"type": "http.response.body", "body": b"", "more_body": False})


@router.get("/events")
def events(request: Request, actor: WebActor, runtime: AppRuntime) -> StreamingResponse:
    cookie = request.cookies[SESSION_COOKIE]  # WebActor has checked it
    still_allowed = functools.partial(login_still_opens, runtime.factory, cookie, actor)
    return EventStream(stream(runtime.bus, actor, still_allowed),
                       media_type="text/event-stream",
                       headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def login_still_opens(factory: sessionmaker[Session], cookie: str, actor: Actor) -> bool:
    """The stream's login session still exists, for the same agent in the same account."""
    with unit_of_work(factory) as session:
        try:
            now = actor_from_login_session(session, cookie)
        except Unauthenticated:
            return False
    return (now.account_id, now.agent_id) == (actor.account_id, actor.agent_id)


async def stream(bus: EventBus, actor: Actor,
                 still_allowed: Callable[[], bool]) -> AsyncIterator[str]:
    """Runs until the browser goes away (the server then cancels it), the server stops, or
    the login no longer opens the account: checked every few seconds, and at once when an
    `access.changed` event names this agent. A closed stream says `access-ended` last.

    Subscribing here, not in the route, ties the subscription's life to the stream's; the
    `ready` event tells the page that nothing happening from now on can be missed.
    """
    subscription = bus.subscribe(actor.account_id)
    try:
        yield "retry: 2000\nevent: ready\ndata: {}\n\n"
        check_at = time.monotonic() + RECHECK_SECONDS
        while True:
            event = await subscription.next(max(0.0, check_at - time.monotonic()))
            about_me = (event is not None and event.type == ACCESS_CHANGED
                        and event.data.get("agent_id") == actor.agent_id)
            if about_me or time.monotonic() >= check_at:
                if not await asyncio.to_thread(still_allowed):
                    yield "event: access-ended\ndata: {}\n\n"
                    return
                check_at = time.monotonic() + RECHECK_SECONDS
            if event is None:
                yield ": keep-alive\n\n"
            elif event.type != ACCESS_CHANGED:
                yield f"event: {event.type}\ndata: {json.dumps(event.data, default=str)}\n\n"
    finally:
        subscription.close()
