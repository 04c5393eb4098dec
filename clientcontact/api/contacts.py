"""Contacts: create, read, update, list, find by email or phone, merge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import MISSING

from clientcontact.api.deps import AppSettings, CurrentActor, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.contacts import service as contacts
from clientcontact.contacts.merge import merge_contacts
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.schemas import (
    ContactCreate,
    ContactMerge,
    ContactOut,
    ContactPage,
    ContactUpdate,
)
from clientcontact.errors import BadRequest, NotFound
from clientcontact.inputs import Id

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


@router.get("", response_model=ContactPage)
def list_contacts(session: DbSession, actor: CurrentActor,
                  q: Annotated[str | None, Query(max_length=200)] = None,
                  cursor: Id | None = None,
                  limit: int = Query(50, ge=1, le=200)) -> ContactPage:
    rows = contacts.list_contacts(session, actor, query=q, after_id=cursor, limit=limit + 1)
    page = rows[:limit]
    return ContactPage(contacts=[ContactOut.of(c) for c in page],
                       next_cursor=str(page[-1].id) if len(rows) > limit else None)


@router.get("/find", response_model=ContactOut, responses=error_responses(404))
def find_contact(session: DbSession, actor: CurrentActor, settings: AppSettings,
                 email: Annotated[str | None, Query(max_length=320)] = None,
                 phone: Annotated[str | None, Query(max_length=320)] = None) -> ContactOut:
    """Any way of writing a phone number finds the contact with that E.164 number."""
    if (email is None) == (phone is None):
        raise BadRequest("give exactly one of email or phone")
    kind, value = (IdentityKind.EMAIL, email) if email is not None else (IdentityKind.PHONE,
                                                                        phone)
    contact = contacts.find_by_identity(session, actor, kind, value or "",
                                        settings.default_phone_region)
    if contact is None:
        raise NotFound(f"no contact with {kind} {value}")
    return ContactOut.of(contact)


@router.post("", response_model=ContactOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409))
def create_contact(body: ContactCreate, session: DbSession, actor: CurrentActor,
                   settings: AppSettings) -> ContactOut:
    contact = contacts.create_contact(
        session, actor, name=body.name, notes=body.notes,
        identities=[(i.kind, i.value) for i in body.identities],
        default_region=settings.default_phone_region)
    return ContactOut.of(contact)


@router.get("/{contact_id}", response_model=ContactOut)
def get_contact(contact_id: Id, session: DbSession, actor: CurrentActor) -> ContactOut:
    return ContactOut.of(contacts.get_contact(session, actor, contact_id))


@router.patch("/{contact_id}", response_model=ContactOut, responses=error_responses(409))
def update_contact(contact_id: Id, body: ContactUpdate, session: DbSession,
                   actor: CurrentActor, settings: AppSettings) -> ContactOut:
    identities = (None if body.identities is MISSING
                  else [(i.kind, i.value) for i in body.identities])
    contact = contacts.update_contact(
        session, actor, contact_id, changes=body.model_dump(exclude_unset=True,
                                                            exclude={"identities"}),
        identities=identities, default_region=settings.default_phone_region)
    return ContactOut.of(contact)


@router.post("/{contact_id}/merge", response_model=ContactOut)
def merge(contact_id: Id, body: ContactMerge, session: DbSession,
          actor: CurrentActor) -> ContactOut:
    return ContactOut.of(merge_contacts(session, actor, keep_id=contact_id,
                                        merge_id=body.merge_id))
