"""A conversation's messages: read the thread, reply, add a note, retry a failed send."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from clientcontact.api.deps import AppRuntime, CurrentActor, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.conversations import reply as replies
from clientcontact.conversations.messages import get_attachment, get_message, list_messages
from clientcontact.conversations.reply import NewAttachment
from clientcontact.conversations.schemas import MessageOut, MessagePage, NoteIn, ReplyIn
from clientcontact.inputs import Id, servable_media_type

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage)
def thread(conversation_id: Id, session: DbSession, actor: CurrentActor,
           after: Id | None = None, limit: int = Query(100, ge=1, le=500)) -> MessagePage:
    rows = list_messages(session, actor, conversation_id, after_id=after, limit=limit + 1)
    page = rows[:limit]
    return MessagePage(messages=[MessageOut.of(m) for m in page],
                       next_cursor=str(page[-1].id) if len(rows) > limit else None)


@router.post("/conversations/{conversation_id}/messages", response_model=MessageOut,
             status_code=status.HTTP_201_CREATED)
def send_reply(conversation_id: Id, body: ReplyIn, session: DbSession, actor: CurrentActor,
               runtime: AppRuntime) -> MessageOut:
    """Saved as `queued` with its delivery job in one commit; the worker then sends it. Outside
    WhatsApp's 24-hour window only a `template` is accepted (422 otherwise)."""
    message = replies.reply(
        session, actor, conversation_id, text=body.text, html=body.html,
        attachments=[NewAttachment(a.filename, a.content_type, a.data) for a in body.attachments],
        template=body.template.template() if body.template else None,
        store=runtime.store, reply_domain=runtime.settings.reply_domain)
    return MessageOut.of(message)


@router.post("/conversations/{conversation_id}/notes", response_model=MessageOut,
             status_code=status.HTTP_201_CREATED)
def add_note(conversation_id: Id, body: NoteIn, session: DbSession,
             actor: CurrentActor) -> MessageOut:
    message = replies.add_note(session, actor, conversation_id, text=body.text)
    return MessageOut.of(get_message(session, actor, message.id))


@router.get("/messages/{message_id}", response_model=MessageOut)
def read_message(message_id: Id, session: DbSession, actor: CurrentActor) -> MessageOut:
    return MessageOut.of(get_message(session, actor, message_id))


@router.post("/messages/{message_id}/retry", response_model=MessageOut,
             responses=error_responses(409))
def retry(message_id: Id, session: DbSession, actor: CurrentActor) -> MessageOut:
    replies.retry(session, actor, message_id)
    return MessageOut.of(get_message(session, actor, message_id))


@router.get("/attachments/{attachment_id}")
def download(attachment_id: Id, session: DbSession, actor: CurrentActor,
             runtime: AppRuntime) -> Response:
    attachment = get_attachment(session, actor, attachment_id)
    return Response(runtime.store.get(attachment.storage_key),
                    media_type=servable_media_type(attachment.content_type),
                    headers={"Content-Disposition":
                             f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
                             "X-Content-Type-Options": "nosniff"})
