"""Activity lines: the thread records who changed what ("Alice assigned this to Bob")."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clientcontact.accounts.models import Agent
from clientcontact.conversations.models import Conversation, Direction, Message, MessageKind
from clientcontact.db.tenancy import Actor
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit


def record_activity(session: Session, actor: Actor, conversation: Conversation,
                    what: str) -> Message:
    agent = session.get(Agent, actor.agent_id) if actor.agent_id else None
    who = agent.name if agent else "Automation"
    line = Message(
        account_id=conversation.account_id, conversation_id=conversation.id,
        inbox_id=conversation.inbox_id, direction=Direction.OUT, kind=MessageKind.ACTIVITY,
        author_agent_id=actor.agent_id, text=f"{who} {what}", extra={},
    )
    session.add(line)
    session.flush()
    publish_after_commit(session, RealtimeEvent(conversation.account_id, "message.created", {
        "conversation_id": conversation.id, "message_id": line.id}))
    return line
