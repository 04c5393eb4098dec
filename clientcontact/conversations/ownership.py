"""Moving a contact's history to another contact (used when two contacts are merged)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from clientcontact.conversations.models import Conversation, Message


def move_contact_history(session: Session, *, from_contact_id: int, to_contact_id: int) -> None:
    """Callers have checked both contacts belong to the acting account."""
    for column in (Conversation.contact_id, Message.author_contact_id):
        session.execute(
            update(column.class_).where(column == from_contact_id)
            .values({column.key: to_contact_id}).execution_options(synchronize_session=False)
        )
