"""Group commit: raw events from webhooks arriving together are stored in one transaction.

Providers send in bursts, and a transaction per webhook spent its time waiting: for SQLite's
one write lock, for PostgreSQL's round trips and commits. Here the first webhook to arrive
writes every event waiting at that moment (one INSERT, one job per account, one commit) while
the next ones queue; each caller returns only once its own event is committed, so a provider
is still answered 2xx only for what is stored. A batch that fails is written again one event
at a time, so one bad event never fails the webhooks that arrived with it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from clientcontact.db.scope import unit_of_work
from clientcontact.ingest.jobs import KIND
from clientcontact.ingest.store import RawEvent, store_raw_many
from clientcontact.jobs.queue import enqueue_many

BATCH_LIMIT = 200  # events per transaction; beyond that, the next batch takes them


@dataclass(eq=False)
class _Waiting:
    event: RawEvent
    ready: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write a batch (its own event first), not because it is stored
    error: Exception | None = None


class GroupCommit:
    """One per process and database; `store` is called from many threads at once."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._mutex = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False

    def store(self, event: RawEvent) -> None:
        """Return once the event is committed (now, or already before: a provider's retry);
        raise what prevented it."""
        waiting = _Waiting(event)
        with self._mutex:
            self._queue.append(waiting)
            if not self._writing:
                self._writing = waiting.lead = True
                waiting.ready.set()
        waiting.ready.wait()
        if waiting.lead:
            self._write_next_batch()
        if waiting.error is not None:
            raise waiting.error

    def _write_next_batch(self) -> None:
        """The leader's turn: its own event heads the queue, so it is in this batch."""
        with self._mutex:
            batch, self._queue = self._queue[:BATCH_LIMIT], self._queue[BATCH_LIMIT:]
        try:
            self._write(batch)
        finally:
            for waiting in batch[1:]:
                waiting.ready.set()
            with self._mutex:
                if self._queue:  # hand the next batch to the first of those who waited
                    self._queue[0].lead = True
                    self._queue[0].ready.set()
                else:
                    self._writing = False

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with unit_of_work(self._factory) as session:
                store_and_enqueue(session, [waiting.event for waiting in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            for waiting in batch:
                self._write([waiting])


def store_and_enqueue(session: Session, events: Sequence[RawEvent]) -> list[int]:
    """Store the events not stored yet and enqueue the handling of each (one job per event,
    so the workers share a burst); returns the new rows' ids."""
    new = store_raw_many(session, events)
    enqueue_many(session, KIND, [({"event_id": event_id}, account_id)
                                 for event_id, account_id in new])
    return [event_id for event_id, _ in new]
