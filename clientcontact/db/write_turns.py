"""Whose turn it is to write to a SQLite file, within one process, with webhooks first.

SQLite has one write lock per file. A thread that finds it taken waits in SQLite's busy
handler, which sleeps and looks again (1, 2, 5, 10 … 100 ms): it never queues. So when the
in-process worker writes handling batch after handling batch, the intake's writer, which
answers providers only once their webhooks are committed, wakes up to find the lock taken
again and again: it was starved to a tenth of its own speed, with p99 over half a second.

Here the threads of one process take turns in Python instead, before SQLite's lock is even
asked for: a thread's first writing statement in a transaction waits for the turn, and the
transaction's commit or rollback passes it on at once, to a waiting *urgent* thread first (the
intake's writer: a provider waits on each of its webhooks) and only then to the others (the
worker, a web request). A transaction that only reads never waits. Other processes (a separate
`clientcontact worker`) still meet SQLite's own lock and busy handler; PostgreSQL needs none of
this.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

# SQLite's own busy timeout (db/engine.py): past it a turn is taken anyway and SQLite decides,
# so a thread that somehow holds a turn for ever cannot hang the others beyond what SQLite does.
MAX_WAIT_SECONDS = 30.0
_NOT_WRITES = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "EXPLAIN")
_local = threading.local()


def writes_first() -> None:
    """Mark the calling thread as urgent: its writes go before any non-urgent thread's."""
    _local.urgent = True


def _writes(statement: str) -> bool:
    """Whether the statement asks for SQLite's write lock: BEGIN IMMEDIATE or EXCLUSIVE does
    at once, a deferred BEGIN does not, nor does reading."""
    head = statement.lstrip()[:20].upper()
    if head.startswith("BEGIN"):
        return "IMMEDIATE" in head or "EXCLUSIVE" in head
    return not head.startswith(_NOT_WRITES)


class WriteTurns:
    """One per engine: the thread whose transaction writes, and who waits for the next turn."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holder: int | None = None  # thread ident
        self._holding: set[int] = set()  # its connections with a write in their transaction
        self._urgent_waiting = 0

    def take(self, connection_key: int) -> None:
        me = threading.get_ident()
        urgent = getattr(_local, "urgent", False)
        with self._changed:
            if self._holder == me:  # a second connection of the same thread: SQLite decides
                self._holding.add(connection_key)
                return
            self._urgent_waiting += urgent
            try:
                self._changed.wait_for(
                    lambda: self._holder is None and (urgent or not self._urgent_waiting),
                    timeout=MAX_WAIT_SECONDS)
            finally:
                self._urgent_waiting -= urgent
            self._holder = me
            self._holding.add(connection_key)

    def give_back(self, connection_key: int) -> None:
        with self._changed:
            if connection_key not in self._holding:
                return
            self._holding.discard(connection_key)
            if not self._holding:
                self._holder = None
                self._changed.notify_all()


def take_turns_to_write(engine: Engine) -> WriteTurns:
    """Make the threads of this process take turns writing through `engine`."""
    turns = WriteTurns()
    holding = "clientcontact.write_turn"

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if connection.info.get(holding) or not _writes(statement):
            return
        connection.info[holding] = True
        turns.take(id(connection.connection.dbapi_connection))

    def _done(connection: Connection) -> None:
        if connection.info.pop(holding, False):
            turns.give_back(id(connection.connection.dbapi_connection))

    event.listen(engine, "commit", _done)
    event.listen(engine, "rollback", _done)

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        """A connection given back to the pool without a commit or rollback event of its own
        (the pool's reset does its rollback): its turn ends with it."""
        with contextlib.suppress(KeyError):
            if record.info.pop(holding):
                turns.give_back(id(dbapi_connection))

    return turns
