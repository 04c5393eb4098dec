"""Group commit: work from webhooks arriving together is written in one transaction.

Providers send in bursts, and a transaction per webhook spent its time waiting: for SQLite's
one write lock, for PostgreSQL's round trips and commits, for a threadpool thread and the GIL.
Here one writer thread per process takes every item waiting at that moment, writes them in one
transaction and wakes each caller on its event loop; a caller is answered only once its own
item is committed, so a provider still gets 2xx only for what is stored. A batch that fails is
written again one item at a time, so one bad item never fails the webhooks that came with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from clientcontact.db.scope import unit_of_work
from clientcontact.db.write_turns import writes_first

log = logging.getLogger(__name__)

BATCH_LIMIT = 200  # items per transaction; beyond that, the next batch takes them
Item = TypeVar("Item")
Result = TypeVar("Result")
# Writes a batch in the caller's transaction; returns, per item and in order, its result or
# the exception refusing it alone (the others are still committed). Raising fails the batch.
BatchWrite = Callable[[Session, Sequence[Item]], list["Result | Exception"]]


@dataclass(eq=False)
class _Waiting(Generic[Item, Result]):
    item: Item
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Result]


class GroupCommit(Generic[Item, Result]):
    """One per process and database; `submit` is awaited on any event loop."""

    def __init__(self, factory: sessionmaker[Session],
                 write: BatchWrite[Item, Result]) -> None:
        self._factory = factory
        self._write_batch = write
        self._queue: queue.SimpleQueue[_Waiting[Item, Result] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._start = threading.Lock()

    async def submit(self, item: Item) -> Result:
        """The item's result once it is committed (with whatever came with it)."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(item, loop, loop.create_future())
        self._ensure_running()
        self._queue.put(waiting)
        return await waiting.future

    def close(self) -> None:
        """Let the writer finish what is queued, then stop."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _ensure_running(self) -> None:
        with self._start:
            if not self._thread.is_alive() and self._thread.ident is None:
                self._thread.start()

    def _run(self) -> None:
        writes_first()  # callers wait on every batch: on SQLite it writes before the worker
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            with contextlib.suppress(queue.Empty):
                while len(batch) < BATCH_LIMIT:
                    waiting = self._queue.get_nowait()
                    if waiting is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    batch.append(waiting)
            self._write(batch)

    def _write(self, batch: list[_Waiting[Item, Result]]) -> None:
        """Never raises: the writer thread must outlive any batch, or every later caller
        would wait for ever."""
        try:
            with unit_of_work(self._factory) as session:
                results = self._write_batch(session, [waiting.item for waiting in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for a batch of {len(batch)}")
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            log.warning("a batch of %d failed (%s); writing them one at a time",
                        len(batch), type(exc).__name__)
            for waiting in batch:
                self._write([waiting])
            return
        for waiting, result in zip(batch, results, strict=True):
            _settle(waiting, result)


def _settle(waiting: _Waiting[Item, Result], result: Result | Exception) -> None:
    with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits
        waiting.loop.call_soon_threadsafe(_resolve, waiting.future, result)


def _resolve(future: asyncio.Future[Result], result: Result | Exception) -> None:
    if future.done():  # the caller gave up (its connection closed); the write stands
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)
