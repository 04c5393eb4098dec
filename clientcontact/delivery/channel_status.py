"""Can each inbox send, and is its queue healthy? The figures behind
`GET /api/v1/channels/status` and `clientcontact channels`.

Queue figures come from one query over the account's inboxes, each figure read through an index
of its own (what is queued, what failed lately, the last send); credentials are
proved by each adapter's `check()` (one cheap authenticated call per inbox, all at once, each
under a short deadline so one unreachable provider cannot stall the page).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientcontact.channels.base import ChannelKind, ChannelStatus, DeliveryStatus
from clientcontact.channels.registry import AdapterContext, adapter_for
from clientcontact.conversations.models import Direction, Message, MessageKind
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import scoped
from clientcontact.errors import ConfigurationError
from clientcontact.inboxes.models import Inbox

CHECK_DEADLINE_SECONDS = 5.0
FAILURE_WINDOW = timedelta(hours=1)
_WAITING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class QueueFigures:
    last_sent_at: datetime | None = None
    queue_depth: int = 0  # queued or sending (a retry waiting for its turn is queued)
    failures_last_hour: int = 0
    oldest_queued_at: datetime | None = None


@dataclass(frozen=True)
class InboxHealth:
    inbox_id: int
    account_id: int
    name: str
    channel: ChannelKind
    provider: str
    address: str
    configured: bool
    credentials_valid: bool | None  # None: not checked, or the provider did not answer
    detail: str
    queue: QueueFigures
    oldest_queued_age_seconds: float | None


def channel_report(session: Session, account_id: int, context: AdapterContext, *,
                   check: bool = True, now: datetime | None = None) -> list[InboxHealth]:
    """Every inbox of the account with its credentials' state and its queue figures. Runs its
    own event loop for the checks: call it from synchronous code (a route, the CLI)."""
    now = now or utcnow()
    inboxes = list(session.scalars(scoped(Inbox, account_id).order_by(Inbox.id)))
    figures = queue_figures(session, account_id, now=now)
    loop = asyncio.new_event_loop()
    try:
        statuses = loop.run_until_complete(_check_all(inboxes, context, check=check))
    finally:
        loop.close()  # unlike asyncio.run, does not wait for a check thread past its deadline
    return [_health(inbox, status, figures.get(inbox.id, QueueFigures()), now)
            for inbox, status in zip(inboxes, statuses, strict=True)]


def queue_figures(session: Session, account_id: int, *,
                  now: datetime | None = None) -> dict[int, QueueFigures]:
    """Per inbox id of the account. Each figure is read through an index of its own, so it
    costs what is queued, failed lately or one row, never every message the inbox ever sent."""
    since = (now or utcnow()) - FAILURE_WINDOW
    outgoing = (Message.inbox_id == Inbox.id, Message.direction == Direction.OUT,
                Message.kind == MessageKind.MESSAGE)
    waiting = (*outgoing, Message.status.in_(_WAITING))
    figures = (
        select(Message.sent_at).where(*outgoing, Message.sent_at.is_not(None))
        .order_by(Message.sent_at.desc()).limit(1),  # ix_messages_inbox_sent
        select(func.count()).where(*waiting),  # ix_messages_inbox_status
        select(func.count()).where(*outgoing, Message.failed_at >= since),  # …_inbox_failed
        select(func.min(Message.created_at)).where(*waiting),  # ix_messages_inbox_status
    )
    stmt = scoped(Inbox, account_id, Inbox.id,
                  *(figure.correlate(Inbox).scalar_subquery() for figure in figures))
    return {inbox_id: QueueFigures(last_sent, depth, failures, oldest)
            for inbox_id, last_sent, depth, failures, oldest in session.execute(stmt)}


async def _check_all(inboxes: list[Inbox], context: AdapterContext, *,
                     check: bool) -> list[ChannelStatus]:
    return list(await asyncio.gather(*(_check(i, context, check=check) for i in inboxes)))


async def _check(inbox: Inbox, context: AdapterContext, *, check: bool) -> ChannelStatus:
    try:
        adapter = adapter_for(inbox, context)
    except ConfigurationError as exc:
        return ChannelStatus(configured=False, credentials_valid=False, detail=str(exc))
    if not check:
        return ChannelStatus(configured=True, credentials_valid=None, detail="not checked")
    try:
        return await asyncio.wait_for(adapter.check(), CHECK_DEADLINE_SECONDS)
    except TimeoutError:
        return ChannelStatus(True, None, f"{inbox.provider} did not answer within "
                                         f"{CHECK_DEADLINE_SECONDS:g} s")
    except Exception as exc:  # a status page must show a broken adapter, not fail with it
        return ChannelStatus(True, None, f"check failed: {type(exc).__name__}: {exc}")


def _health(inbox: Inbox, status: ChannelStatus, queue: QueueFigures,
            now: datetime) -> InboxHealth:
    oldest = queue.oldest_queued_at
    return InboxHealth(
        inbox_id=inbox.id, account_id=inbox.account_id, name=inbox.name, channel=inbox.channel,
        provider=inbox.provider, address=inbox.address, configured=status.configured,
        credentials_valid=status.credentials_valid, detail=status.detail, queue=queue,
        oldest_queued_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else None)
