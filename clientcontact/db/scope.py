"""Units of work: the request and job sessions are the only places that commit.

Side effects that must not happen for rolled-back work (realtime pushes, waking the worker)
are registered with `after_commit` and run only once the commit succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

_PENDING = "clientcontact.after_commit"


def after_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run `effect` after this session's transaction commits; drop it on rollback."""
    session.info.setdefault(_PENDING, []).append(effect)


@event.listens_for(Session, "after_commit")
def _run_effects(session: Session) -> None:
    effects = session.info.pop(_PENDING, [])
    for effect in effects:
        try:
            effect()
        except Exception:  # an effect failing must not undo or hide a committed write
            log.exception("after-commit effect failed")


@event.listens_for(Session, "after_rollback")
def _drop_effects(session: Session) -> None:
    session.info.pop(_PENDING, None)


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
