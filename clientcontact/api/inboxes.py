"""Inboxes: list and read for every agent; create for admins."""

from __future__ import annotations

from fastapi import APIRouter, status

from clientcontact.api.deps import AppRuntime, CurrentActor, CurrentAdmin, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.inboxes import service as inboxes
from clientcontact.inboxes.schemas import InboxCreate, InboxOut
from clientcontact.inputs import Id

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])


@router.get("", response_model=list[InboxOut])
def list_inboxes(session: DbSession, actor: CurrentActor, runtime: AppRuntime) -> list[InboxOut]:
    return [InboxOut.of(i, runtime.settings) for i in inboxes.list_inboxes(session, actor)]


@router.post("", response_model=InboxOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409))
def create_inbox(body: InboxCreate, session: DbSession, admin: CurrentAdmin,
                 runtime: AppRuntime) -> InboxOut:
    inbox = inboxes.create_inbox(
        session, admin, name=body.name, channel=body.channel, provider=body.provider,
        address=body.address, display_name=body.display_name, credentials=body.credentials,
        box=runtime.adapters.box, region=runtime.settings.default_phone_region)
    return InboxOut.of(inbox, runtime.settings)


@router.get("/{inbox_id}", response_model=InboxOut)
def get_inbox(inbox_id: Id, session: DbSession, actor: CurrentActor,
              runtime: AppRuntime) -> InboxOut:
    return InboxOut.of(inboxes.get_inbox(session, actor, inbox_id), runtime.settings)
