"""Inbound events: every authenticated provider request, kept as received before it is parsed.

A row is the proof of what a provider told us. `handled_at` is stamped only once parsing and
routing succeeded, so a payload we could not handle stays visible with its `error` until
`clientcontact replay-inbound` runs it again after a fix.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientcontact.db.base import Base, BigId, IdPk, utcnow


class InboundEventRow(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        # A provider's retry carries the same id: the second copy is never stored.
        UniqueConstraint("inbox_id", "endpoint", "external_id"),
        # The failures list: an account's unhandled events, oldest first.
        Index("ix_inbound_events_unhandled", "account_id", "handled_at", "id"),
    )

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(20))  # "inbound" or "status"
    external_id: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)  # the public URL the provider called
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # lower-cased names
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)  # the last failure, cleared on success
    note: Mapped[str | None] = mapped_column(Text)  # what handling did, e.g. an unknown id
