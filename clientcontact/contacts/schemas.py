"""API shapes for contacts."""

from __future__ import annotations

from datetime import datetime

from pydantic import MISSING, BaseModel, ConfigDict, Field

from clientcontact.contacts.models import Contact, IdentityKind
from clientcontact.inputs import Id, OneLine, PlainText

# More addresses than anyone has; the web form has the same limits.
MAX_IDENTITIES = 50
MAX_IDENTITY_LENGTH = 320
MAX_NOTES = 10_000


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: IdentityKind
    value: OneLine = Field(min_length=1, max_length=MAX_IDENTITY_LENGTH)


class IdentityOut(BaseModel):
    id: int
    kind: IdentityKind
    value: str


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: OneLine | None = Field(default=None, max_length=200)
    notes: PlainText | None = Field(default=None, max_length=MAX_NOTES)
    identities: list[IdentityIn] = Field(min_length=1, max_length=MAX_IDENTITIES)


class ContactUpdate(BaseModel):
    """Only the fields given change; null clears the name or the notes. Identities, when
    given, replace the contact's addresses."""

    model_config = ConfigDict(extra="forbid")
    name: OneLine | MISSING | None = Field(default=MISSING, max_length=200)
    notes: PlainText | MISSING | None = Field(default=MISSING, max_length=MAX_NOTES)
    identities: list[IdentityIn] | MISSING = Field(default=MISSING, min_length=1,
                                                   max_length=MAX_IDENTITIES)


class ContactMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merge_id: Id = Field(description="the duplicate: its history moves here, then it goes")


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
