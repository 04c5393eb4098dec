"""Canned responses: every agent reads them, admins keep them; placeholders are filled in
with plain substitution (never a template engine, so a saved answer cannot run code)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from clientcontact.canned.models import CannedResponse
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import BadRequest, Conflict

PLACEHOLDERS = ("contact.name", "contact.first_name", "agent.name", "agent.first_name")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SHORT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def list_canned(session: Session, actor: Actor) -> list[CannedResponse]:
    return list(session.scalars(
        scoped(CannedResponse, actor.account_id).order_by(CannedResponse.short_code)))


def get_canned(session: Session, actor: Actor, canned_id: int) -> CannedResponse:
    return get_scoped(session, CannedResponse, canned_id, actor.account_id)


def save_canned(session: Session, actor: Actor, *, short_code: str, content: str,
                canned_id: int | None = None) -> CannedResponse:
    """Create, or update the one with `canned_id`; short codes are unique in an account."""
    code = short_code.strip().lower().lstrip("/")
    if not _SHORT_CODE.match(code):
        raise BadRequest("a short code is 1 to 60 letters, digits, '-' or '_'")
    if not content.strip():
        raise BadRequest("a canned response needs content")
    refuse_unknown_placeholders(content)
    clash = session.scalar(scoped(CannedResponse, actor.account_id).where(
        CannedResponse.short_code == code))
    if clash is not None and clash.id != canned_id:
        raise Conflict(f"the short code {code!r} is taken")
    if canned_id is None:
        canned = CannedResponse(account_id=actor.account_id, short_code=code, content=content)
        session.add(canned)
    else:
        canned = get_canned(session, actor, canned_id)
        canned.short_code, canned.content = code, content
    session.flush()
    return canned


def refuse_unknown_placeholders(content: str) -> None:
    """A typo such as `{{ contact.frist_name }}` would reach customers as typed: refuse it when
    the answer is saved, naming the placeholders there are."""
    unknown = [m.group(0) for m in _ANY_PLACEHOLDER.finditer(content)
               if m.group(1).strip() not in PLACEHOLDERS]
    if unknown:
        known = ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
        raise BadRequest(f"unknown placeholder {unknown[0][:80]}: the known placeholders are "
                         f"{known}")


def delete_canned(session: Session, actor: Actor, canned_id: int) -> None:
    session.delete(get_canned(session, actor, canned_id))
    session.flush()


def fill_placeholders(content: str, *, contact_name: str | None, agent_name: str | None) -> str:
    """`{{contact.first_name}}` and friends; an unknown placeholder is left as typed."""
    values = {
        "contact.name": contact_name or "",
        "contact.first_name": (contact_name or "").split(" ")[0],
        "agent.name": agent_name or "",
        "agent.first_name": (agent_name or "").split(" ")[0],
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), content)
