"""The event bus agents' screens listen to. In-process by default; Redis pub/sub across servers.

Publishing goes through `publish_after_commit`: a screen must never show a message that a
rollback then takes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clientcontact.db.scope import after_commit


@dataclass(frozen=True)
class RealtimeEvent:
    account_id: int
    type: str  # "message.created", "message.status", "conversation.updated", …
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)


class EventBus(Protocol):
    def publish(self, event: RealtimeEvent) -> None: ...
    def subscribe(self, account_id: int) -> Subscription: ...


class Subscription:
    """A bounded queue of one account's events; a slow reader loses the oldest, never blocks."""

    def __init__(self, bus: InProcessBus, account_id: int, size: int = 1000) -> None:
        self.account_id = account_id
        self._bus = bus
        self._queue: queue.Queue[RealtimeEvent] = queue.Queue(size)
        # Set while an async reader (a browser's event stream) waits, so offer can wake it.
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    def offer(self, event: RealtimeEvent) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        waiter = self._waiter
        if waiter is not None:
            loop, future = waiter
            with contextlib.suppress(RuntimeError):  # the reader's loop has closed
                loop.call_soon_threadsafe(_wake, future)

    def get(self, timeout: float) -> RealtimeEvent | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    async def next(self, timeout: float) -> RealtimeEvent | None:
        """Like `get`, for async readers: waits without holding a thread."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(queue.Empty):
            return self._queue.get_nowait()
        future: asyncio.Future[None] = loop.create_future()
        self._waiter = (loop, future)
        try:
            with contextlib.suppress(queue.Empty):  # offered between the check and the wait
                return self._queue.get_nowait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, timeout)
        finally:
            self._waiter = None
        with contextlib.suppress(queue.Empty):
            return self._queue.get_nowait()
        return None

    def close(self) -> None:
        self._bus.unsubscribe(self)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class InProcessBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_account: dict[int, list[Subscription]] = {}

    def publish(self, event: RealtimeEvent) -> None:
        with self._lock:
            targets = list(self._by_account.get(event.account_id, ()))
        for subscription in targets:
            subscription.offer(event)

    def subscribe(self, account_id: int) -> Subscription:
        subscription = Subscription(self, account_id)
        with self._lock:
            self._by_account.setdefault(account_id, []).append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            listeners = self._by_account.get(subscription.account_id, [])
            if subscription in listeners:
                listeners.remove(subscription)


def publish_after_commit(session: Session, event: RealtimeEvent) -> None:
    bus: EventBus | None = session.info.get("bus")
    if bus is not None:
        after_commit(session, lambda: bus.publish(event))
