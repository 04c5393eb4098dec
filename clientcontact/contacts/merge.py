"""Merging duplicate contacts: one person found twice (an email here, a phone there)."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.contacts.service import get_contact
from clientcontact.conversations.ownership import move_contact_history
from clientcontact.db.tenancy import Actor
from clientcontact.errors import BadRequest


def merge_contacts(session: Session, actor: Actor, *, keep_id: int, merge_id: int) -> Contact:
    """Move identities, conversations and messages of `merge_id` onto `keep_id`, then drop it."""
    if keep_id == merge_id:
        raise BadRequest("cannot merge a contact into itself")
    keep = get_contact(session, actor, keep_id)
    gone = get_contact(session, actor, merge_id)  # both 404 outside the actor's account
    session.execute(update(ContactIdentity).where(ContactIdentity.contact_id == gone.id)
                    .values(contact_id=keep.id).execution_options(synchronize_session=False))
    move_contact_history(session, from_contact_id=gone.id, to_contact_id=keep.id)
    keep.name = keep.name or gone.name
    keep.notes = "\n\n".join(n for n in (keep.notes, gone.notes) if n) or None
    session.expunge(gone)
    session.execute(delete(Contact).where(Contact.id == gone.id))
    session.flush()
    session.expire(keep)
    return get_contact(session, actor, keep.id)
