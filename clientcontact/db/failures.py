"""What a database error says about trying again: the same work may succeed in a moment (the
database was unreachable, or another transaction was in the way), or it never will as it is
(a constraint, a bad row), and retrying would only repeat the failure."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# PostgreSQL's serialization_failure and deadlock_detected: the transaction lost a race with
# another one and was rolled back; run again, it normally succeeds.
_CONFLICTS = {"40001", "40P01"}


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or a serialization failure: nothing was wrong with the work itself."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _CONFLICTS


def is_transient(exc: BaseException) -> bool:
    """The database could not do this now (unreachable, restarting, locked, a conflict), as
    opposed to refusing this data: the same write is worth trying again shortly."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)
