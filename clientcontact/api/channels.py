"""Channel status: can each of the account's inboxes send, and is its queue healthy?"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from clientcontact.api.deps import AppRuntime, CurrentActor, DbSession
from clientcontact.channels.base import ChannelKind
from clientcontact.delivery.channel_status import InboxHealth, channel_report

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])


class ChannelStatusOut(BaseModel):
    inbox_id: int
    name: str
    channel: ChannelKind
    provider: str
    address: str
    configured: bool
    credentials_valid: bool | None
    detail: str
    last_sent_at: datetime | None
    queue_depth: int
    failures_last_hour: int
    oldest_queued_age_seconds: float | None

    @classmethod
    def of(cls, health: InboxHealth) -> ChannelStatusOut:
        return cls(
            inbox_id=health.inbox_id, name=health.name, channel=health.channel,
            provider=health.provider, address=health.address, configured=health.configured,
            credentials_valid=health.credentials_valid, detail=health.detail,
            last_sent_at=health.queue.last_sent_at, queue_depth=health.queue.queue_depth,
            failures_last_hour=health.queue.failures_last_hour,
            oldest_queued_age_seconds=health.oldest_queued_age_seconds)


@router.get("/status", response_model=list[ChannelStatusOut])
def channel_status(session: DbSession, actor: CurrentActor, runtime: AppRuntime,
                   check: bool = True) -> list[ChannelStatusOut]:
    """`check=false` skips the providers' credential checks (one authenticated call each)."""
    report = channel_report(session, actor.account_id, runtime.adapters, check=check)
    return [ChannelStatusOut.of(health) for health in report]
