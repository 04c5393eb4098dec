"""API shapes for contacts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clientcontact.contacts.models import Contact, IdentityKind


class IdentityIn(BaseModel):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)


class IdentityOut(IdentityIn):
    id: int


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    notes: str | None = None
    identities: list[IdentityIn] = Field(min_length=1)


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    notes: str | None = None
    identities: list[IdentityIn] | None = None


class ContactMerge(BaseModel):
    merge_id: int = Field(description="the duplicate: its history moves here, then it goes")


class ContactOut(BaseModel):
    id: int
    name: str | None
    notes: str | None
    identities: list[IdentityOut]
    created_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.id, name=contact.name, notes=contact.notes, created_at=contact.created_at,
            identities=[IdentityOut(id=i.id, kind=i.kind, value=i.value)
                        for i in contact.identities],
        )


class ContactPage(BaseModel):
    contacts: list[ContactOut]
    next_cursor: str | None
