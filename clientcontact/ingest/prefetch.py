"""What handling a batch of stored events needs from the network, done before its transaction.

A media host or SNS that answers slowly must not hold the batch's locks (on SQLite, the one
write lock every webhook waits for). So before the transaction opens, the events that need the
network are read in a short transaction of their own and parsed, their media copied into the
file store, and their SNS subscriptions confirmed; the transaction then only writes rows from
what was found here. All of it within a budget, a quarter of the jobs' lease: what is not done
by then is left for later (media: the `ingest.media` job; a confirmation: the event's retry).

A file stored here for an event whose transaction then rolls back stays in the store unused.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from clientcontact.channels.base import InboundMessage, RawRequest
from clientcontact.channels.ses.notifications import SesInbound
from clientcontact.channels.ses.sns import MESSAGE_TYPE_HEADER, SubscriptionConfirmation
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import owned
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.media import FETCHERS, MediaResult, fetch_to_store
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.store import raw_request
from clientcontact.jobs.runner import WorkerRuntime

log = logging.getLogger(__name__)

SNS_PROVIDER = "ses"  # the provider whose webhooks may ask to confirm a subscription
Target = tuple[int, int | None]


class NotFetched(Exception):
    """What an event needs from the network was not done before its transaction; its retry
    does it."""


@dataclass
class Prefetched:
    """Per media URL, what fetching it came to; per SNS confirmation, None when SNS took it,
    else the error. What is absent was never tried. The events of the rows parsed here, by
    row id, so that the transaction does not parse them again."""

    media: dict[str, MediaResult] = field(default_factory=dict)
    confirmations: dict[SubscriptionConfirmation, Exception | None] = field(
        default_factory=dict)
    events: dict[int, list[Any]] = field(default_factory=dict)


def prefetch(runtime: WorkerRuntime, targets: list[Target]) -> Prefetched:
    """Fetch and confirm what these targets' events need; never raises for one event (an
    event that cannot be parsed here fails in its transaction, with its error on its row)."""
    found = Prefetched()
    events = _network_events(runtime, targets, found.events)
    deadline = time.monotonic() + runtime.settings.delivery_lease_seconds / 4
    for inbox, receiver, request, event in events:
        if isinstance(event, SubscriptionConfirmation):
            if isinstance(receiver, SesInbound):
                found.confirmations[event] = _confirmed(receiver, request)
            continue
        for item in event.attachments:
            if item.data is None and item.url and item.url not in found.media:
                found.media[item.url] = fetch_to_store(
                    inbox, item.url, settings=runtime.settings, store=runtime.store,
                    deadline=deadline)
    return found


def _network_events(runtime: WorkerRuntime, targets: list[Target],
                    parsed: dict[int, list[Any]]) -> list[tuple[Any, ...]]:
    """(inbox, receiver, request, event) of the events not handled yet that hold media to
    fetch or a subscription to confirm; only the providers that can send those are parsed,
    and each row parsed is kept in `parsed`."""
    idents = [(event_id, account_id) for event_id, account_id in targets
              if account_id is not None]
    if not idents:
        return []
    providers = {*FETCHERS, SNS_PROVIDER}
    with unit_of_work(runtime.factory) as session:
        rows = session.execute(
            select(InboundEventRow, Inbox).join(Inbox, Inbox.id == InboundEventRow.inbox_id)
            .where(owned(InboundEventRow, idents), InboundEventRow.handled_at.is_(None),
                   Inbox.provider.in_(providers))).all()
    found = []
    for row, inbox in rows:
        receiver = runtime.adapter(inbox).receivers.get(row.endpoint)
        if receiver is None or (inbox.provider == SNS_PROVIDER and
                                row.headers.get(MESSAGE_TYPE_HEADER) != "SubscriptionConfirmation"):
            continue
        request = raw_request(row)
        try:
            events = parsed[row.id] = receiver.parse(request)
        except Exception:  # the event's own transaction fails on it again, and records why
            continue
        found += [(inbox, receiver, request, event) for event in events
                  if isinstance(event, SubscriptionConfirmation)
                  or (isinstance(event, InboundMessage) and event.attachments)]
    return found


def _confirmed(receiver: SesInbound, request: RawRequest) -> Exception | None:
    """Visit SubscribeURL (re-verified by the receiver); SNS accepts a repeated visit, so a
    confirmation whose event then fails is harmless."""
    try:
        receiver.confirm_subscription(request)
    except Exception as exc:  # recorded on the event's row by its transaction
        log.warning("SNS subscription confirmation failed: %s", exc)
        return exc
    return None
