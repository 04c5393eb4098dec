"""What each agent has seen: a conversation is unread for an agent when the customer wrote
after that agent last opened it. One row per agent and conversation, stamped on open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from clientcontact.conversations.models import Conversation, ConversationStatus
from clientcontact.db.base import Base, BigId, IdPk, utcnow
from clientcontact.db.counting import count_up_to
from clientcontact.db.tenancy import Actor, scoped


class ConversationRead(Base):
    __tablename__ = "conversation_reads"
    __table_args__ = (UniqueConstraint("agent_id", "conversation_id"),)

    id: Mapped[IdPk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id", ondelete="CASCADE"))
    read_at: Mapped[datetime]


def mark_read(session: Session, actor: Actor, conversation: Conversation) -> None:
    """Stamp now; two tabs opening the same conversation at once both succeed."""
    if actor.agent_id is None:
        return
    now = utcnow()
    row = session.scalar(scoped(ConversationRead, actor.account_id).where(
        ConversationRead.agent_id == actor.agent_id,
        ConversationRead.conversation_id == conversation.id))
    if row is not None:
        row.read_at = now
        session.flush()
        return
    try:
        with session.begin_nested():
            session.add(ConversationRead(account_id=actor.account_id, agent_id=actor.agent_id,
                                         conversation_id=conversation.id, read_at=now))
    except IntegrityError:
        pass  # the other tab's stamp is as good as ours


def unread_ids(session: Session, actor: Actor, conversations: Sequence[Conversation]) -> set[int]:
    """Which of these (one page of the list) the agent has not seen since the customer wrote:
    their read stamps looked up by (agent, conversation) and compared here, rather than a join
    over the whole table."""
    ids = [c.id for c in conversations]
    if not ids or actor.agent_id is None:
        return set()
    rows = session.execute(select(ConversationRead.conversation_id, ConversationRead.read_at)
                           .where(ConversationRead.agent_id == actor.agent_id,
                                  ConversationRead.conversation_id.in_(ids)))
    read_at = {conversation_id: at for conversation_id, at in rows}
    return {c.id for c in conversations if c.last_inbound_at is not None
            and (c.id not in read_at or c.last_inbound_at > read_at[c.id])}


def unread_mine(session: Session, actor: Actor, *, up_to: int) -> int:
    """Open conversations assigned to the agent with news, up to `up_to`: the number in the
    title badge."""
    read = and_(ConversationRead.conversation_id == Conversation.id,
                ConversationRead.agent_id == actor.agent_id)
    stmt = (scoped(Conversation, actor.account_id, Conversation.id)
            .outerjoin(ConversationRead, read)
            .where(Conversation.assignee_id == actor.agent_id,
                   Conversation.status == ConversationStatus.OPEN,
                   Conversation.last_inbound_at.is_not(None),
                   or_(ConversationRead.read_at.is_(None),
                       Conversation.last_inbound_at > ConversationRead.read_at)))
    return count_up_to(session, stmt, up_to)


def last_read_at(session: Session, actor: Actor, conversation_id: int) -> datetime | None:
    return session.scalar(select(ConversationRead.read_at).where(
        ConversationRead.agent_id == actor.agent_id,
        ConversationRead.conversation_id == conversation_id))
