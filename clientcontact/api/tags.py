"""Tags of the account."""

from __future__ import annotations

from fastapi import APIRouter, status

from clientcontact.api.deps import CurrentActor, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.conversations import tags
from clientcontact.conversations.schemas import TagIn, TagOut
from clientcontact.inputs import Id

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])


@router.get("", response_model=list[TagOut])
def list_tags(session: DbSession, actor: CurrentActor) -> list[TagOut]:
    return [TagOut(id=t.id, name=t.name, color=t.color) for t in tags.list_tags(session, actor)]


@router.post("", response_model=TagOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409))
def create_tag(body: TagIn, session: DbSession, actor: CurrentActor) -> TagOut:
    tag = tags.create_tag(session, actor, body.name, body.color)
    return TagOut(id=tag.id, name=tag.name, color=tag.color)


@router.get("/{tag_id}", response_model=TagOut)
def get_tag(tag_id: Id, session: DbSession, actor: CurrentActor) -> TagOut:
    tag = tags.get_tag(session, actor, tag_id)
    return TagOut(id=tag.id, name=tag.name, color=tag.color)


@router.delete("/{tag_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tag(tag_id: Id, session: DbSession, actor: CurrentActor) -> None:
    tags.delete_tag(session, actor, tag_id)
