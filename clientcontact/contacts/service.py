"""Contacts: create, find by any of their addresses, update, merge duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, bindparam, func, or_
from sqlalchemy.orm import Session, selectinload

from clientcontact.contacts.identities import normalize
from clientcontact.contacts.models import Contact, ContactIdentity, IdentityKind
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import BadRequest, Conflict

IdentityInput = tuple[IdentityKind, str]


def get_contact(session: Session, actor: Actor, contact_id: int) -> Contact:
    return get_scoped(session, Contact, contact_id, actor.account_id,
                      selectinload(Contact.identities))


def list_contacts(session: Session, actor: Actor, *, query: str | None = None,
                  after_id: int | None = None, limit: int = 50) -> list[Contact]:
    stmt: Select[tuple[Contact]] = (
        scoped(Contact, actor.account_id).options(selectinload(Contact.identities))
        .order_by(Contact.id.desc()).limit(limit)
    )
    if after_id is not None:
        stmt = stmt.where(Contact.id < after_id)
    if query:
        pattern = f"%{query.strip().lower()}%"
        matching_identity = scoped(
            ContactIdentity, actor.account_id, ContactIdentity.contact_id
        ).where(func.lower(ContactIdentity.value).like(pattern))
        stmt = stmt.where(or_(func.lower(Contact.name).like(pattern),
                              Contact.id.in_(matching_identity)))
    return list(session.scalars(stmt))


def find_by_identity(session: Session, actor: Actor, kind: IdentityKind, value: str,
                     default_region: str = "US") -> Contact | None:
    normalized = normalize(kind, value, default_region)
    identity = session.scalar(
        scoped(ContactIdentity, actor.account_id)
        .where(ContactIdentity.kind == kind, ContactIdentity.value == normalized))
    return None if identity is None else get_contact(session, actor, identity.contact_id)


# Ingest asks this for every message it routes, so it is built once: still scoped to one
# account, whose id is bound on each call like the address (no value, no query).
_CONTACT_OWNING = (
    scoped(Contact, bindparam("account_id")).join(ContactIdentity)
    .where(ContactIdentity.kind == bindparam("kind"),
           ContactIdentity.value == bindparam("value"))
    .with_for_update(of=Contact))


def contact_owning(session: Session, account_id: int, kind: IdentityKind,
                   normalized: str) -> Contact | None:
    """The contact an already normalized address belongs to, in one query, its identities not
    loaded: what ingest asks for every message it routes.

    Locked until the commit (PostgreSQL; SQLite has one writer at a time anyway): two workers
    handling messages from one sender take turns, so the second finds the conversation the
    first opened instead of opening another."""
    return session.scalar(_CONTACT_OWNING,
                          {"account_id": account_id, "kind": kind, "value": normalized})


def create_with_identity(session: Session, account_id: int, *, name: str | None,
                         kind: IdentityKind, normalized: str) -> Contact:
    """A new contact for a normalized address the caller found unowned a moment ago. A twin
    created since by someone else is refused by the identities' unique key (IntegrityError),
    so there is no second look here; the caller resolves the race."""
    contact = Contact(account_id=account_id, name=name, identities=[
        ContactIdentity(account_id=account_id, kind=kind, value=normalized)])
    session.add(contact)
    session.flush()
    return contact


def create_contact(session: Session, actor: Actor, *, name: str | None,
                   identities: Sequence[IdentityInput], default_region: str = "US",
                   notes: str | None = None) -> Contact:
    contact = Contact(account_id=actor.account_id, name=name, notes=notes, identities=[])
    session.add(contact)
    session.flush()
    add_identities(session, actor, contact, identities, default_region)
    return contact


def add_identities(session: Session, actor: Actor, contact: Contact,
                   identities: Iterable[IdentityInput], default_region: str = "US") -> None:
    """Attach addresses; one that already belongs to another contact is a conflict, not a steal.
    One query finds the owners of them all, so the work grows with their number, no faster."""
    known = {(i.kind, i.value) for i in contact.identities}
    new = [key for key in dict.fromkeys((kind, normalize(kind, raw, default_region))
                                        for kind, raw in identities) if key not in known]
    if not new:
        return
    owned = session.execute(
        scoped(ContactIdentity, actor.account_id, ContactIdentity.kind, ContactIdentity.value,
               ContactIdentity.contact_id)
        .where(ContactIdentity.value.in_({value for _, value in new}))).all()
    wanted = set(new)
    for kind, value, owner in owned:
        if (kind, value) in wanted:
            raise Conflict(f"{value} already belongs to contact {owner}")
    contact.identities.extend(ContactIdentity(account_id=actor.account_id, kind=kind, value=value)
                              for kind, value in new)
    session.flush()


def update_contact(session: Session, actor: Actor, contact_id: int, *, changes: dict[str, object],
                   identities: Sequence[IdentityInput] | None = None,
                   default_region: str = "US") -> Contact:
    """Apply the given fields; when identities are given they replace the current set."""
    contact = get_contact(session, actor, contact_id)
    for field in ("name", "notes"):
        if field in changes:
            setattr(contact, field, changes[field])
    if identities is not None:
        wanted = {(kind, normalize(kind, raw, default_region)) for kind, raw in identities}
        if not wanted:
            raise BadRequest("a contact needs at least one email address, phone or handle")
        contact.identities = [i for i in contact.identities if (i.kind, i.value) in wanted]
        session.flush()
        add_identities(session, actor, contact, sorted(wanted), default_region)
    session.flush()
    return contact
