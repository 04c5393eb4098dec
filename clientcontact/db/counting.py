"""Counts that stay cheap on big tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def count_up_to(session: Session, rows: Select[Any], cap: int) -> int:
    """How many rows `rows` selects, stopping at `cap`: the scan ends there instead of
    walking 100k index entries for a number a person reads as "999+" anyway."""
    limited = rows.limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)
