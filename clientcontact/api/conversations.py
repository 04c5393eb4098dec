"""Conversations: list with filters, read, change state, start one with a contact."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from clientcontact.api.deps import AppRuntime, CurrentActor, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.channels.base import ChannelKind
from clientcontact.conversations import service as conversations
from clientcontact.conversations.models import ConversationStatus
from clientcontact.conversations.reply import start_conversation
from clientcontact.conversations.schemas import (
    ConversationOut,
    ConversationPage,
    ConversationStart,
    ConversationUpdate,
    MessageOut,
)
from clientcontact.inputs import Id

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


class StartedOut(ConversationOut):
    message: MessageOut


def conversation_filter(
    status: ConversationStatus | None = None, inbox_id: Id | None = None,
    channel: ChannelKind | None = None,
    assignee: str | None = Query(None, max_length=20, pattern=r"^(me|none|[0-9]{1,18})$",
                                 description="'me', 'none' or an agent id"),
    team_id: Id | None = None, tag: str | None = Query(None, max_length=60),
    contact_id: Id | None = None,
) -> conversations.ConversationFilter:
    return conversations.ConversationFilter(status=status, inbox_id=inbox_id, channel=channel,
                                            assignee=assignee, team_id=team_id, tag=tag,
                                            contact_id=contact_id)


Filters = Annotated[conversations.ConversationFilter, Depends(conversation_filter)]


@router.get("", response_model=ConversationPage)
def list_conversations(session: DbSession, actor: CurrentActor, filters: Filters,
                       cursor: str | None = Query(None, max_length=200),
                       limit: int = Query(25, ge=1, le=100)) -> ConversationPage:
    page = conversations.list_conversations(session, actor, filters, cursor=cursor, limit=limit)
    return ConversationPage(conversations=[ConversationOut.of(c) for c in page.conversations],
                            next_cursor=page.next_cursor)


@router.post("", response_model=StartedOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(404))
def start(body: ConversationStart, session: DbSession, actor: CurrentActor,
          runtime: AppRuntime) -> StartedOut:
    conversation, message = start_conversation(
        session, actor, inbox_id=body.inbox_id, contact_id=body.contact_id, text=body.text,
        subject=body.subject, store=runtime.store, reply_domain=runtime.settings.reply_domain,
        template=body.template.template() if body.template else None)
    loaded = conversations.get_conversation(session, actor, conversation.id)
    return StartedOut(**ConversationOut.of(loaded).model_dump(), message=MessageOut.of(message))


@router.get("/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: Id, session: DbSession,
                     actor: CurrentActor) -> ConversationOut:
    return ConversationOut.of(conversations.get_conversation(session, actor, conversation_id))


@router.patch("/{conversation_id}", response_model=ConversationOut)
def update_conversation(conversation_id: Id, body: ConversationUpdate, session: DbSession,
                        actor: CurrentActor) -> ConversationOut:
    conversation = conversations.update_conversation(session, actor, conversation_id,
                                                     body.changes())
    return ConversationOut.of(conversation)
