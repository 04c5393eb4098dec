"""What a database error says about trying again: the same work may succeed in a moment (the
database was unreachable, or another transaction was in the way), or it never will as it is
(a constraint, a bad row), and retrying would only repeat the failure."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# PostgreSQL's serialization_failure, deadlock_detected and lock_not_available: the
# transaction lost a race with another one; run again, it normally succeeds.
_CONFLICTS = frozenset({"40001", "40P01", "55P03"})
SQLITE_BUSY = 5  # the primary code of SQLITE_BUSY and its extended codes


def is_conflict(exc: BaseException) -> bool:
    """A deadlock, a serialization failure or a lock wait given up (SQLite's "database is
    locked" too): other work was in the way, nothing was wrong with the work itself, so a
    retry does not count as one of its attempts."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _CONFLICTS:
        return True
    return getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY


def is_transient(exc: BaseException) -> bool:
    """The database could not do this now (unreachable, restarting, locked, a conflict), as
    opposed to refusing this data: the same write is worth trying again shortly."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)
