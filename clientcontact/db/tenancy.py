"""The one place that filters by account: every tenant-owned query starts here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Delete,
    Select,
    Update,
    delete,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from clientcontact.errors import NotFound
from clientcontact.inputs import is_id

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who is acting: an agent in one account (or the system, acting for an account)."""

    account_id: int
    agent_id: int | None = None
    role: str = "agent"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# An account id, or a bound parameter standing for one in a statement built once.
AccountId = int | BindParameter[int]


def scoped(model: type[T], account_id: AccountId, *columns: Any) -> Select[Any]:
    """`select(model)` limited to one account's rows."""
    stmt = select(*columns) if columns else select(model)
    return stmt.where(model.account_id == account_id)  # type: ignore[attr-defined]


def scoped_update(model: type[T], account_id: AccountId) -> Update:
    """`update(model)` limited to one account's rows."""
    return update(model).where(model.account_id == account_id)  # type: ignore[attr-defined]


def scoped_delete(model: type[T], account_id: AccountId) -> Delete:
    """`delete(model)` limited to one account's rows."""
    return delete(model).where(model.account_id == account_id)  # type: ignore[attr-defined]


def get_scoped(session: Session, model: type[T], ident: int, account_id: int,
               *options: Any) -> T:
    """Load one row of this account, or raise NotFound: another tenant's id looks absent, and
    so does one no row can have (beyond 64 bits: the database would refuse to compare it)."""
    row = None
    if is_id(ident):
        stmt = scoped(model, account_id).where(model.id == ident)  # type: ignore[attr-defined]
        if options:
            stmt = stmt.options(*options)
        row = session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound(f"{model.__name__.lower()} {ident} not found")
    return row


def owned(model: type[T], idents: Iterable[tuple[int, int]]) -> ColumnElement[bool]:
    """Rows by (id, account_id) pairs, for work that spans accounts (a worker's batch): each
    id matches only within its own account."""
    return tuple_(model.id, model.account_id).in_(list(idents))  # type: ignore[attr-defined]
