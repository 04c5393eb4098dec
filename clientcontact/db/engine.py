"""Engine and session factory, configured once per process from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # str() of a URL masks its password as ***: render it whole, or we'd log in with "***".
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers work while the in-process worker writes; FKs are off by default.

    pysqlite's own transaction handling is switched off (`isolation_level = None`): it sends
    BEGIN only before an INSERT, UPDATE or DELETE, so a SAVEPOINT opened before any write
    starts no transaction and releasing it commits. `_sqlite_begin` sends BEGIN instead, as
    the SQLAlchemy pysqlite documentation recommends ("Serializable isolation / Savepoints /
    Transactional DDL"); with Python 3.12's `autocommit=False` this would be built in.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Every transaction begins IMMEDIATE: it takes SQLite's one write lock up front, waiting
    for it (busy_timeout) while another writer holds it.

    Nearly every unit of work may write (the intake writer, the worker, and web requests: even
    opening a conversation stamps it read). A DEFERRED transaction that has read and then
    writes after another connection committed cannot be made current again: SQLite answers
    SQLITE_BUSY at once, without waiting, and the work fails. Taking the lock first costs
    some concurrency (a reader waits for the writer before it), which stays small because no
    transaction waits on the network: media downloads and SNS confirmations happen outside
    the ingest transaction.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
