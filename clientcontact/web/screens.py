"""What the conversation screen shows, gathered in one place so the page, its fragments and the
benchmark all load the same things the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from clientcontact.accounts.models import Agent, Team
from clientcontact.accounts.service import list_agents
from clientcontact.accounts.teams import list_teams
from clientcontact.canned.service import fill_placeholders, list_canned
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.conversations import reads
from clientcontact.conversations.messages import list_messages
from clientcontact.conversations.models import Conversation, Message
from clientcontact.conversations.service import ConversationFilter, get_conversation
from clientcontact.conversations.service import list_conversations as find_conversations
from clientcontact.conversations.tags import list_tags
from clientcontact.conversations.whatsapp_window import window_closes_at, window_is_open
from clientcontact.db.tenancy import Actor, scoped

THREAD_LIMIT = 1000  # a longer thread shows its first thousand; nobody reads further in a UI


@dataclass(frozen=True)
class CannedChoice:
    short_code: str
    text: str


@dataclass(frozen=True)
class ConversationScreen:
    conversation: Conversation
    messages: list[Message]
    agents: dict[int, Agent]
    teams: list[Team]
    tag_names: list[str]
    canned: list[CannedChoice]
    history: list[Conversation]  # the contact's other conversations
    window_open: bool | None  # WhatsApp only
    window_closes: datetime | None
    templates: list[str] = field(default_factory=list)  # Content SIDs sent before (WhatsApp)

    @property
    def channel(self) -> ChannelKind:
        return self.conversation.inbox.channel

    @property
    def contact_email(self) -> str | None:
        return next((i.value for i in self.conversation.contact.identities
                     if i.kind is IdentityKind.EMAIL), None)

    @property
    def last_message_id(self) -> int:
        return self.messages[-1].id if self.messages else 0


def load_conversation(session: Session, actor: Actor, conversation_id: int, *,
                      mark_read: bool = True, with_thread: bool = True) -> ConversationScreen:
    """`with_thread=False` is for re-rendering the header or the composer alone."""
    conversation = get_conversation(session, actor, conversation_id)
    messages = (list_messages(session, actor, conversation.id, limit=THREAD_LIMIT)
                if with_thread else [])
    if mark_read:
        reads.mark_read(session, actor, conversation)
    agents = account_agents(session, actor)
    me = agents.get(actor.agent_id or 0)
    canned = [CannedChoice(c.short_code, fill_placeholders(
        c.content, contact_name=conversation.contact.name, agent_name=me.name if me else None))
        for c in list_canned(session, actor)]
    history = find_conversations(session, actor,
                                 ConversationFilter(contact_id=conversation.contact_id),
                                 limit=10).conversations if with_thread else []
    window_open = window_is_open(conversation)
    return ConversationScreen(
        conversation=conversation, messages=messages, agents=agents,
        teams=list_teams(session, actor), tag_names=[t.name for t in list_tags(session, actor)],
        canned=canned, history=[c for c in history if c.id != conversation.id],
        window_open=window_open, window_closes=window_closes_at(conversation),
        templates=used_templates(session, actor) if window_open is False else [],
    )


def used_templates(session: Session, actor: Actor, limit: int = 50) -> list[str]:
    """Content SIDs this account has sent before: suggestions for the template picker."""
    sid = Message.extra["template"]["content_sid"].as_string()
    found = session.scalars(
        scoped(Message, actor.account_id, sid).where(sid.is_not(None)).distinct().limit(limit))
    return sorted(value for value in found if value)


def account_agents(session: Session, actor: Actor) -> dict[int, Agent]:
    """Everyone in the account by id: authors of replies and notes, choices for assignee."""
    return {agent.id: agent for agent, _ in list_agents(session, actor)}


def load_thread_after(session: Session, actor: Actor, conversation_id: int,
                      after_id: int) -> tuple[Conversation, list[Message], dict[int, Agent]]:
    """The messages that arrived since the screen last looked (and they are now read)."""
    conversation = get_conversation(session, actor, conversation_id)
    messages = list_messages(session, actor, conversation.id, after_id=after_id,
                             limit=THREAD_LIMIT)
    reads.mark_read(session, actor, conversation)
    return conversation, messages, account_agents(session, actor)
