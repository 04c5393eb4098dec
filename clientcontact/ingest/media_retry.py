"""Media that could not be fetched when its message was handled, retried by a job.

The message is in its conversation at once, with the file listed as missing in
`Message.extra["missing_attachments"]` (name, type, why, and whether it is still being
retried), which agents see as "attachment unavailable, retrying". The `ingest.media` job
fetches the message's missing files outside any transaction, then stores what came in a short
one; it tries MAX_ATTEMPTS times with growing backoff, then gives up and the file stays listed
as missing, with the last reason.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from clientcontact.channels.base import InboundAttachment
from clientcontact.conversations.models import Attachment, Message
from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import get_scoped, scoped
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.media import MediaMissing, MediaResult, StoredMedia, fetch_to_store
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import enqueue
from clientcontact.jobs.runner import RetryLater, WorkerRuntime, backoff
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

KIND = "ingest.media"
MISSING = "missing_attachments"  # the key in Message.extra
MAX_ATTEMPTS = 8  # with BACKOFF_SECONDS: about an hour of trying in all
BACKOFF_SECONDS = 30.0
NAME_LENGTH = 255


def missing(item: InboundAttachment, why: MediaMissing) -> dict[str, Any]:
    """How a file not fetched yet is listed on its message."""
    return {"filename": item.filename, "content_type": item.content_type, "url": item.url,
            "reason": why.reason, "retrying": True}


def retry_later(session: Session, message: Message) -> None:
    """Schedule the message's missing files to be fetched again (once per message)."""
    enqueue(session, KIND, {"message_id": message.id}, account_id=message.account_id,
            key=f"{KIND}:{message.id}",
            run_after=utcnow() + timedelta(seconds=backoff(1, base=BACKOFF_SECONDS)))


def attachment(message: Message, filename: str | None, content_type: str | None, *,
               storage_key: str, size: int, content_id: str | None = None,
               inline: bool = False) -> Attachment:
    """The row of a file in our store, its names cut to the columns' width."""
    return Attachment(
        account_id=message.account_id, message_id=message.id,
        filename=(filename or "attachment")[:NAME_LENGTH],
        content_type=(content_type or "application/octet-stream")[:NAME_LENGTH],
        size=size, storage_key=storage_key,
        content_id=content_id[:NAME_LENGTH] if content_id else None, inline=inline)


def retry_missing_media(job: Job, runtime: WorkerRuntime) -> None:
    """Handler of `ingest.media`: fetch, then store what came; RetryLater while files are
    still missing and tries are left."""
    if job.account_id is None:
        return
    message_id = int(job.payload["message_id"])
    with unit_of_work(runtime.factory) as session:
        message = _message(session, job.account_id, message_id)
        if message is None:
            return
        inbox = get_scoped(session, Inbox, message.inbox_id, job.account_id)
        urls = [record["url"] for record in (message.extra or {}).get(MISSING, [])]
    deadline = time.monotonic() + runtime.settings.delivery_lease_seconds / 4
    fetched = {url: fetch_to_store(inbox, url, settings=runtime.settings, store=runtime.store,
                                   deadline=deadline) for url in urls}
    with unit_of_work(runtime.factory) as session:
        message = _message(session, job.account_id, message_id, lock=True)
        if message is None:
            return
        # The tries so far: the one before the message was stored, and this job's.
        tries = 1 + job.attempts
        waiting = _settle(session, message, fetched,
                          gave_up_after=tries if job.attempts >= MAX_ATTEMPTS else None)
    if waiting:
        raise RetryLater(waiting[0]["reason"],
                         delay=backoff(job.attempts + 1, base=BACKOFF_SECONDS))


def _message(session: Session, account_id: int, message_id: int, *,
             lock: bool = False) -> Message | None:
    """The message, or None when it was deleted meanwhile; locked when about to change."""
    stmt = scoped(Message, account_id).where(Message.id == message_id)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def _settle(session: Session, message: Message, fetched: dict[str, MediaResult], *,
            gave_up_after: int | None) -> list[dict[str, Any]]:
    """Attach the files that came, keep links to those that never will, and list the rest
    as missing (no longer retried after the last try); the records still being retried."""
    extra = dict(message.extra or {})
    links = list(extra.get("media_urls", []))
    still: list[dict[str, Any]] = []
    for record in extra.get(MISSING, []):
        result = fetched.get(record["url"], MediaMissing(record["reason"]))
        if isinstance(result, StoredMedia):
            session.add(attachment(message, record["filename"], record["content_type"],
                                   storage_key=result.storage_key, size=result.size))
        elif result is None:
            links.append(record["url"])
        else:
            reason = (result.reason if gave_up_after is None
                      else f"gave up after {gave_up_after} tries: {result.reason}")
            still.append({**record, "reason": reason, "retrying": gave_up_after is None})
    extra |= {"media_urls": links} if links else {}
    extra = {key: value for key, value in (extra | {MISSING: still}).items() if value}
    message.extra = extra
    publish_after_commit(session, RealtimeEvent(message.account_id, "message.updated", {
        "conversation_id": message.conversation_id, "message_id": message.id}))
    return [record for record in still if record["retrying"]]
