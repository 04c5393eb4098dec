"""API shapes for inboxes. Credentials go in, never come out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from clientcontact.channels.base import ChannelKind
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.urls import inbound_url, status_callback_url
from clientcontact.inputs import OneLine, PlainText
from clientcontact.settings import Settings


class InboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: OneLine = Field(min_length=1, max_length=200)
    channel: ChannelKind
    provider: OneLine = Field(min_length=1, max_length=40)
    address: OneLine = Field(min_length=1, max_length=320)
    display_name: OneLine | None = Field(default=None, max_length=200)
    credentials: dict[Annotated[PlainText, Field(max_length=100)],
                      Annotated[PlainText, Field(max_length=10_000)]] | None = Field(
        default=None, max_length=20,
        description="the provider's keys for this inbox; stored encrypted")


class InboxOut(BaseModel):
    id: int
    name: str
    channel: ChannelKind
    provider: str
    address: str
    display_name: str | None
    has_own_credentials: bool
    inbound_url: str
    status_callback_url: str
    created_at: datetime

    @classmethod
    def of(cls, inbox: Inbox, settings: Settings) -> InboxOut:
        return cls(
            id=inbox.id, name=inbox.name, channel=inbox.channel, provider=inbox.provider,
            address=inbox.address, display_name=inbox.display_name,
            has_own_credentials=inbox.credentials_encrypted is not None,
            inbound_url=inbound_url(settings, inbox),
            status_callback_url=status_callback_url(settings, inbox), created_at=inbox.created_at,
        )
