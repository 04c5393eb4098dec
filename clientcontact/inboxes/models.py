"""An inbox is one receiving endpoint with its channel, provider and (encrypted) credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientcontact.channels.base import ChannelKind
from clientcontact.db.base import Base, BigId, IdPk, str_enum, utcnow


class Inbox(Base):
    __tablename__ = "inboxes"
    # The recipient address or number identifies the inbox on the shared webhook paths.
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    provider: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(320))  # email address or E.164 number
    display_name: Mapped[str | None] = mapped_column(String(200))
    # Identifies the inbox in per-inbox webhook URLs; not a secret, never a credential.
    public_key: Mapped[str] = mapped_column(String(40), unique=True)
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
