"""The delivery job, a batch at a time: one short transaction loads the batch's messages and
marks them `sending`; the sends run concurrently outside any transaction; their outcomes are
recorded as they finish, several to a commit (outcomes.py). A slow provider never holds a
database lock, and a message costs about one statement and a third of a commit, not eight
statements and two commits.

The one at-least-once window is between the provider accepting a message and our recording
it: a worker killed there leaves the message `sending`, and the job (claimable again after its
lease) sends it again. At most WORKER_CONCURRENCY messages per worker are ever in that window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from clientcontact.channels.base import (
    Attachment,
    ChannelKind,
    DeliveryStatus,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
)
from clientcontact.contacts.models import Contact
from clientcontact.conversations.models import Conversation, Message
from clientcontact.conversations.reply import recipient, template_of
from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import owned
from clientcontact.delivery.outcomes import (
    SENDABLE,
    Delivery,
    Failed,
    NotStarted,
    Outcome,
    OutcomeLog,
    Retry,
    Sent,
    Unsent,
)
from clientcontact.delivery.status import MESSAGES
from clientcontact.inboxes.urls import reply_address, status_callback_url
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import finish, may_start, release
from clientcontact.jobs.runner import WorkerRuntime, backoff, retry_after_error
from clientcontact.settings import Settings


def send_messages(jobs: list[Job], runtime: WorkerRuntime) -> None:
    """Batch handler of `delivery.send`: every job ends finished, waiting for its retry, or
    released untried (see `may_start`)."""
    with unit_of_work(runtime.factory) as session:
        deliveries = _prepare(session, jobs, runtime)
    if deliveries:
        runtime.run(_send_all(deliveries, runtime))


def _prepare(session: Session, jobs: list[Job], runtime: WorkerRuntime) -> list[Delivery]:
    """Each job's message built for its adapter and marked `sending`. A job whose message was
    already sent, failed or is gone is finished; one that cannot be built waits and retries."""
    wanted = {(int(job.payload["message_id"]), int(job.account_id or 0)): job for job in jobs}
    messages = _sendable_messages(session, wanted)
    conversations = _conversations(session, messages.values())
    ready: list[Delivery] = []
    done: list[int] = []
    for (message_id, _), job in wanted.items():
        message = messages.get(message_id)
        if message is None:
            done.append(job.id)
            continue
        try:
            conversation = conversations[message.conversation_id]
            outbound = _outbound(message, conversation, runtime)
            ready.append(Delivery(job, outbound, runtime.adapter(conversation.inbox)))
        except Exception as exc:  # e.g. an inbox without credentials: the others still go
            retry_after_error(session, job, exc)
    marked = _mark_sending(session, [delivery.message_id for delivery in ready])
    finish(session, *done, *(d.job.id for d in ready if d.message_id not in marked))
    return [delivery for delivery in ready if delivery.message_id in marked]


def _sendable_messages(session: Session,
                       idents: Iterable[tuple[int, int]]) -> dict[int, Message]:
    rows = session.scalars(
        select(Message).where(owned(Message, idents), Message.status.in_(SENDABLE))
        .options(selectinload(Message.attachments)))
    return {message.id: message for message in rows}


def _conversations(session: Session, messages: Iterable[Message]) -> dict[int, Conversation]:
    """With their inboxes and contacts joined in (one query) and the contacts' identities."""
    idents = {(message.conversation_id, message.account_id) for message in messages}
    if not idents:
        return {}
    rows = session.scalars(
        select(Conversation).where(owned(Conversation, idents))
        .options(joinedload(Conversation.inbox),
                 joinedload(Conversation.contact).selectinload(Contact.identities)))
    return {conversation.id: conversation for conversation in rows.unique()}


def _mark_sending(session: Session, message_ids: list[int]) -> set[int]:
    """The ones still sendable as we write: only those are sent."""
    if not message_ids:
        return set()
    return set(session.scalars(
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(message_ids), MESSAGES.c.status.in_(SENDABLE))
        .values(status=DeliveryStatus.SENDING)
        .returning(MESSAGES.c.id)))


async def _send_all(deliveries: list[Delivery], runtime: WorkerRuntime) -> None:
    """WORKER_CONCURRENCY sends at once; a send keeps its slot until its outcome is committed.
    Every send finishes before an error (a failed commit) is raised for the runner to settle;
    the jobs of sends held back while outcomes could not be recorded are first given back."""
    slots = asyncio.Semaphore(runtime.concurrency)
    outcomes = OutcomeLog(runtime.factory)
    results = await asyncio.gather(
        *(_deliver(delivery, runtime.settings, slots, outcomes) for delivery in deliveries),
        return_exceptions=True)
    unstarted = [delivery.job.id for delivery, result in zip(deliveries, results, strict=True)
                 if isinstance(result, NotStarted)]
    if unstarted:
        await asyncio.to_thread(_release, runtime, unstarted)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, NotStarted):
            raise result


def _release(runtime: WorkerRuntime, job_ids: list[int]) -> None:
    with unit_of_work(runtime.factory) as session:
        release(session, *job_ids)


async def _deliver(delivery: Delivery, settings: Settings, slots: asyncio.Semaphore,
                   outcomes: OutcomeLog) -> None:
    async with slots:
        await outcomes.attempt(partial(_attempt, delivery, settings))


async def _attempt(delivery: Delivery, settings: Settings) -> Outcome:
    if not may_start(delivery.job, lease_seconds=settings.delivery_lease_seconds):
        return Unsent(delivery)  # a slow provider held up the batch: another round takes it
    try:
        result = await delivery.adapter.send(delivery.outbound)
    except PermanentFailure as failure:
        return Failed(delivery, failure.code, failure.text)
    except TransientFailure as failure:
        return _retry_or_give_up(delivery, failure, settings)
    return Sent(delivery, result)


def _retry_or_give_up(delivery: Delivery, failure: TransientFailure,
                      settings: Settings) -> Outcome:
    job = delivery.job
    too_old = utcnow() - job.created_at > timedelta(seconds=settings.delivery_max_age_seconds)
    if job.attempts >= settings.delivery_max_attempts or too_old:
        return Failed(delivery, failure.code,
                      f"gave up after {job.attempts} attempts: {failure.text}")
    delay = failure.retry_after if failure.retry_after is not None else backoff(job.attempts)
    return Retry(delivery, failure.code, failure.text, delay)


def _outbound(message: Message, conversation: Conversation,
              runtime: WorkerRuntime) -> OutboundMessage:
    inbox, contact = conversation.inbox, conversation.contact
    is_email = inbox.channel is ChannelKind.EMAIL
    return OutboundMessage(
        message_id=message.id, account_id=message.account_id, inbox_id=inbox.id,
        channel=inbox.channel, to=recipient(contact, inbox.channel), to_name=contact.name,
        from_address=inbox.address,
        from_name=(inbox.display_name or runtime.settings.from_name) if is_email else None,
        text=message.text, html=message.html, subject=message.subject,
        reply_to=reply_address(runtime.settings, conversation.reply_token) if is_email else None,
        email_message_id=message.email_message_id, in_reply_to=message.in_reply_to,
        references=tuple((message.references or "").split()),
        attachments=tuple(
            Attachment(a.filename, a.content_type, runtime.store.get(a.storage_key))
            for a in message.attachments),
        status_callback_url=None if is_email else status_callback_url(runtime.settings, inbox),
        template=template_of(message),
    )
