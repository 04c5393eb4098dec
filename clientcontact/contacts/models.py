"""Contacts and their identities: one person, reachable by several addresses and numbers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clientcontact.db.base import Base, BigId, IdPk, str_enum, utcnow


class IdentityKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"  # E.164, shared by SMS and WhatsApp
    HANDLE = "handle"  # a channel-specific id (e.g. a WhatsApp WaId, a Telegram user)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    identities: Mapped[list[ContactIdentity]] = relationship(
        lazy="raise", back_populates="contact", cascade="all, delete-orphan",
        order_by="ContactIdentity.id",
    )


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    # An address belongs to one contact per account: this is what finding a sender relies on.
    __table_args__ = (UniqueConstraint("account_id", "kind", "value"),)

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[IdentityKind] = mapped_column(str_enum(IdentityKind))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(lazy="raise", back_populates="identities")
