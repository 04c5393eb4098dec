"""SQLite transactions behave as PostgreSQL's do: a SAVEPOINT is part of its transaction
whatever came before it, and a unit of work that reads, then writes, is not refused because
another writer committed in between."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from clientcontact.db.engine import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'transactions.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    yield engine
    engine.dispose()


def saved(engine: Engine) -> list[str]:
    """What another process reads now (a plain reader, which never waits for a writer)."""
    reader = sqlite3.connect(str(engine.url.database))
    try:
        return [body for (body,) in reader.execute("SELECT body FROM notes ORDER BY rowid")]
    finally:
        reader.close()


def write(session: Session, body: str) -> None:
    session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


def test_a_savepoint_released_before_any_write_commits_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("SELECT count(*) FROM notes"))  # reads only, so far
        with session.begin_nested():
            write(session, "inside")
        assert saved(engine) == []  # released, but not committed: nobody else sees it
        session.rollback()
    assert saved(engine) == []


def test_a_rolled_back_savepoint_keeps_the_writes_before_it(engine: Engine) -> None:
    with Session(engine) as session:
        write(session, "before")
        with pytest.raises(RuntimeError), session.begin_nested():
            write(session, "undone")
            raise RuntimeError("this part fails")
        with session.begin_nested():
            write(session, "after")
        session.commit()
    assert saved(engine) == ["before", "after"]


def test_a_savepoint_first_thing_in_a_transaction_rolls_back_alone(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(RuntimeError), session.begin_nested():
            write(session, "undone")
            raise RuntimeError("this part fails")
        write(session, "kept")
        session.commit()
    assert saved(engine) == ["kept"]


def test_a_read_then_write_is_not_refused_when_another_writer_comes_between(
        engine: Engine) -> None:
    """Begun DEFERRED, our transaction would read a snapshot, the other writer commit over
    it, and our write fail at once with SQLITE_BUSY; begun IMMEDIATE, the other waits."""
    read_done = threading.Event()
    other_done = threading.Event()

    def other_writer() -> None:
        read_done.wait(10)
        with Session(engine) as session, session.begin():
            write(session, "other")
        other_done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM notes")).scalar() == 0
        read_done.set()
        other_done.wait(0.5)  # time enough for the other writer to come between
        write(session, "ours")
        session.commit()
    thread.join(10)
    assert sorted(saved(engine)) == ["other", "ours"]
