"""Units of work: the request and job sessions are the only places that commit.

Side effects that must not happen for rolled-back work (realtime pushes, waking the worker)
are registered with `after_commit` and run only once the commit succeeded; those registered
inside a SAVEPOINT that rolls back are dropped with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

_PENDING = "clientcontact.after_commit"
_MARKS = "clientcontact.after_commit.savepoints"


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run `effect` after this session's transaction commits; drop it on rollback."""
    session.info.setdefault(_PENDING, []).append(effect)


@event.listens_for(Session, "after_commit")
def _run_effects(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the work is not committed
        return
    effects = session.info.pop(_PENDING, [])
    session.info.pop(_MARKS, None)
    for effect in effects:
        try:
            effect()
        except Exception:  # an effect failing must not undo or hide a committed write
            log.exception("after-commit effect failed")


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """Remember where a SAVEPOINT began, so rolling it back drops only its own effects."""
    if transaction.nested:
        marks = session.info.setdefault(_MARKS, {})
        marks[transaction] = len(session.info.get(_PENDING, []))


@event.listens_for(Session, "after_soft_rollback")
def _drop_effects(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back SAVEPOINT drops the effects registered inside it (the work before it
    still commits); the whole transaction rolled back drops them all."""
    if previous_transaction.nested:
        mark = session.info.get(_MARKS, {}).pop(previous_transaction, None)
        if mark is not None:
            del session.info.get(_PENDING, [])[mark:]
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_MARKS, None)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
