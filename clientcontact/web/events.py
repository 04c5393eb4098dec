"""Live updates: a Server-Sent Events stream of the account's changes, fed by the event bus.

Events carry ids only ("message 7 of conversation 3 changed"); the page then fetches what it
shows through the ordinary, authorized routes, so the stream never leaks content.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from clientcontact.api.deps import AppRuntime
from clientcontact.realtime.bus import EventBus
from clientcontact.web.deps import WebActor

router = APIRouter()

KEEPALIVE_SECONDS = 15.0  # proxies close a silent connection; a comment line keeps it open


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
def events(actor: WebActor, runtime: AppRuntime) -> StreamingResponse:
    return EventStream(stream(runtime.bus, actor.account_id), media_type="text/event-stream",
                       headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def stream(bus: EventBus, account_id: int) -> AsyncIterator[str]:
    """Runs until the browser goes away (the server then cancels it) or the server stops.

    Subscribing here, not in the route, ties the subscription's life to the stream's; the
    `ready` event tells the page that nothing happening from now on can be missed.
    """
    subscription = bus.subscribe(account_id)
    try:
        yield "retry: 2000\nevent: ready\ndata: {}\n\n"
        while True:
            event = await subscription.next(KEEPALIVE_SECONDS)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            yield f"event: {event.type}\ndata: {json.dumps(event.data, default=str)}\n\n"
    finally:
        subscription.close()
