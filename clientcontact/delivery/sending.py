"""The delivery job: send one queued message through its inbox's adapter and record the outcome.

Two short transactions around the provider call (mark sending; then record the outcome and
finish the job in one commit), so a slow provider never holds a database lock. The one
at-least-once window is between the provider accepting the message and our recording it: a
worker killed exactly there leaves the message `sending`, and the job (claimable again after its
lease) sends it again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from clientcontact.db.tenancy import get_scoped
from clientcontact.delivery.status import apply_status
from clientcontact.inboxes.urls import reply_address, status_callback_url
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import finish
from clientcontact.jobs.runner import FINISHED, RetryLater, WorkerRuntime, backoff
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

_SENDABLE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


def send_message(job: Job, runtime: WorkerRuntime) -> str | None:
    message_id = int(job.payload["message_id"])
    account_id = int(job.account_id or 0)
    with unit_of_work(runtime.factory) as session:
        message = _load(session, message_id, account_id, selectinload(Message.attachments))
        if message.status not in _SENDABLE:
            return  # already sent, or failed and awaiting an agent: nothing to do
        conversation = message_conversation(session, message)
        outbound = _outbound(message, conversation, runtime)
        adapter = runtime.adapter(conversation.inbox)
        message.status = DeliveryStatus.SENDING
    try:
        result = runtime.run(adapter.send(outbound))
    except PermanentFailure as failure:
        _record_failure(runtime, job, message_id, account_id, failure.code, failure.text)
        return FINISHED
    except TransientFailure as failure:
        return _retry_or_give_up(runtime, job, message_id, account_id, failure)
    with unit_of_work(runtime.factory) as session:
        message = _load(session, message_id, account_id)
        message.external_id = result.external_id
        if result.email_message_id:
            message.email_message_id = result.email_message_id
        message.error_code = message.error_text = None
        apply_status(session, message, DeliveryStatus.SENT)
        finish(session, job.id)  # with the outcome: one commit, and no window between the two
    return FINISHED


def _retry_or_give_up(runtime: WorkerRuntime, job: Job, message_id: int, account_id: int,
                      failure: TransientFailure) -> str:
    settings = runtime.settings
    too_old = utcnow() - job.created_at > timedelta(seconds=settings.delivery_max_age_seconds)
    if job.attempts >= settings.delivery_max_attempts or too_old:
        text = f"gave up after {job.attempts} attempts: {failure.text}"
        _record_failure(runtime, job, message_id, account_id, failure.code, text)
        return FINISHED
    with unit_of_work(runtime.factory) as session:
        message = _load(session, message_id, account_id)
        # Still queued, with the reason visible, while we wait to try again.
        message.status = DeliveryStatus.QUEUED
        message.error_code, message.error_text = failure.code, f"retrying: {failure.text}"
        publish_after_commit(session, RealtimeEvent(account_id, "message.status", {
            "conversation_id": message.conversation_id, "message_id": message.id,
            "status": message.status.value, "error_text": message.error_text}))
    delay = failure.retry_after if failure.retry_after is not None else backoff(job.attempts)
    raise RetryLater(failure.text, delay=delay)


def _record_failure(runtime: WorkerRuntime, job: Job, message_id: int, account_id: int,
                    code: str | None, text: str) -> None:
    with unit_of_work(runtime.factory) as session:
        message = _load(session, message_id, account_id)
        apply_status(session, message, DeliveryStatus.FAILED, error_code=code, error_text=text)
        finish(session, job.id)


def _load(session: Session, message_id: int, account_id: int, *options: Any) -> Message:
    return get_scoped(session, Message, message_id, account_id, *options)


def message_conversation(session: Session, message: Message) -> Conversation:
    """With its inbox and contact joined in (one query) and the contact's identities."""
    return get_scoped(
        session, Conversation, message.conversation_id, message.account_id,
        joinedload(Conversation.inbox),
        joinedload(Conversation.contact).selectinload(Contact.identities),
    )


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
