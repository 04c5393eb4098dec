"""Waking idle workers when work is committed, so a reply leaves at once, not at the next poll.

In one process (the embedded default) the code that enqueues wakes the worker after its commit.
Across processes on PostgreSQL the enqueuing transaction sends NOTIFY, which the server delivers
only on commit, and each worker LISTENs on a connection of its own. Either way the poll stays
as a fallback: a lost notification, or a listener reconnecting, only delays work until then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from clientcontact.db.scope import after_commit

log = logging.getLogger(__name__)

CHANNEL = "clientcontact_jobs"
# The listener's connection names itself, so an operator sees it in pg_stat_activity.
APPLICATION_NAME = "clientcontact worker wake-ups"
_HEALTH_CHECK_SECONDS = 10.0  # a silently dead connection is noticed within this
_RECONNECT_SECONDS = (0.5, 30.0)  # first and longest wait before listening again


def wake_workers_after_commit(session: Session) -> None:
    """Idle workers start on the session's new jobs as soon as its transaction commits."""
    wake = session.info.get("wake_worker")
    if wake is not None:
        after_commit(session, wake)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered by the server on commit and dropped on rollback, like the jobs themselves;
        # identical notifications of one transaction arrive as one.
        session.execute(text(f"NOTIFY {CHANNEL}"))


class NotifyListener:
    """A thread that LISTENs on its own PostgreSQL connection and calls `wake` for every
    notification. A dropped connection is opened again (with backoff), and `wake` is called
    once it listens again: what was committed in between was not heard."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-wakeups", daemon=True)
        self.listening = threading.Event()  # set while LISTEN is in force

    def start(self) -> NotifyListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=_HEALTH_CHECK_SECONDS)

    def _run(self) -> None:
        delay = _RECONNECT_SECONDS[0]
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = _RECONNECT_SECONDS[0]
                    self._wake()
                    self._listen(connection)
            except Exception as exc:  # any failure: listen again later, the poll covers it
                log.warning("job wake-ups: listening failed (%s); again in %.1f s", exc, delay)
            finally:
                self.listening.clear()
            self._stop.wait(delay)
            delay = min(delay * 2, _RECONNECT_SECONDS[1])

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        checked = time.monotonic()
        while not self._stop.is_set():
            for _ in connection.notifies(timeout=1.0):
                self._wake()
            if time.monotonic() - checked > _HEALTH_CHECK_SECONDS:
                connection.execute("SELECT 1")  # raises if the server went away unannounced
                checked = time.monotonic()

    def _connect(self) -> psycopg.Connection[Any]:
        """The engine's own connection settings, on a connection outside its pool: a pooled
        one would be recycled under us, and LISTEN must outlive any transaction."""
        args, params = self._engine.dialect.create_connect_args(self._engine.url)
        params = {"connect_timeout": 10, **params, "application_name": APPLICATION_NAME}
        return psycopg.connect(*args, **params, autocommit=True)
