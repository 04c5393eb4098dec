"""The contact beside a conversation: who they are, how to reach them, what came before."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.api.deps import AppSettings, DbSession
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.schemas import MAX_IDENTITIES, MAX_IDENTITY_LENGTH, MAX_NOTES
from clientcontact.contacts.service import IdentityInput, get_contact, update_contact
from clientcontact.conversations.service import ConversationFilter, list_conversations
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Unprocessable
from clientcontact.web.deps import WebActor
from clientcontact.web.templating import render

router = APIRouter()


@router.get("/contacts/{contact_id}/panel")
def contact_panel(contact_id: int, request: Request, session: DbSession, actor: WebActor,
                  conversation: int = 0) -> Response:
    return render(request, "contact/panel.html",
                  _context(session, actor, contact_id, conversation))


@router.get("/contacts/{contact_id}/edit")
def contact_form(contact_id: int, request: Request, session: DbSession, actor: WebActor,
                 conversation: int = 0) -> Response:
    return render(request, "contact/form.html", _context(session, actor, contact_id, conversation))


@router.post("/contacts/{contact_id}")
def save_contact(contact_id: int, request: Request, session: DbSession, actor: WebActor,
                 settings: AppSettings, name: Annotated[str, Form(max_length=200)] = "",
                 notes: Annotated[str, Form(max_length=MAX_NOTES)] = "",
                 identities: Annotated[str, Form(max_length=10_000)] = "",
                 conversation: Annotated[int, Form()] = 0) -> Response:
    update_contact(session, actor, contact_id,
                   changes={"name": name.strip() or None, "notes": notes.strip() or None},
                   identities=parse_identities(identities),
                   default_region=settings.default_phone_region)
    return render(request, "contact/panel.html",
                  _context(session, actor, contact_id, conversation),
                  headers={"HX-Trigger": "list-changed"})


def parse_identities(text: str) -> list[IdentityInput]:
    """One address per line: an email if it has an @, a phone number if it looks like one,
    else a channel handle. The API's limits hold: so many lines, so long each."""
    found: list[IdentityInput] = []
    for line in text.splitlines():
        value = line.strip()
        if not value:
            continue
        if len(value) > MAX_IDENTITY_LENGTH:
            raise Unprocessable(f"an address is at most {MAX_IDENTITY_LENGTH} characters: "
                                f"{value[:40]}…")
        if len(found) == MAX_IDENTITIES:
            raise Unprocessable(f"a contact has at most {MAX_IDENTITIES} addresses")
        if "@" in value:
            found.append((IdentityKind.EMAIL, value))
        elif value.lstrip("+").replace(" ", "").replace("-", "").isdigit():
            found.append((IdentityKind.PHONE, value))
        else:
            found.append((IdentityKind.HANDLE, value))
    return found


def _context(session: Session, actor: Actor, contact_id: int,
             conversation_id: int) -> dict[str, Any]:
    contact = get_contact(session, actor, contact_id)
    history = list_conversations(session, actor, ConversationFilter(contact_id=contact_id),
                                 limit=10).conversations
    return {"contact": contact, "conversation_id": conversation_id,
            "history": [c for c in history if c.id != conversation_id]}
