"""Finding conversations and changing their state (status, assignee, team, priority, tags)."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from clientcontact.accounts.models import Agent, Team
from clientcontact.accounts.service import get_member
from clientcontact.accounts.teams import get_team
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.conversations.activity import record_activity
from clientcontact.conversations.models import (
    Conversation,
    ConversationStatus,
    Priority,
    Tag,
    conversation_tags,
)
from clientcontact.conversations.tags import tags_by_name
from clientcontact.db.base import utcnow
from clientcontact.db.counting import count_up_to
from clientcontact.db.tenancy import Actor, get_scoped, scoped, scoped_update
from clientcontact.errors import BadRequest
from clientcontact.inboxes.models import Inbox
from clientcontact.inputs import MAX_ID
from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

CONVERSATION_LOADS = (
    selectinload(Conversation.contact).selectinload(Contact.identities),
    selectinload(Conversation.inbox),
    selectinload(Conversation.assignee),
    selectinload(Conversation.team),
    selectinload(Conversation.tags),
)

UNASSIGNED = "none"
ME = "me"


@dataclass(frozen=True)
class ConversationFilter:
    status: ConversationStatus | None = None
    inbox_id: int | None = None
    channel: ChannelKind | None = None
    assignee: str | None = None  # "me", "none" or an agent id
    team_id: int | None = None
    tag: str | None = None
    contact_id: int | None = None
    search: str | None = None  # part of the contact's name, address or number, or the subject


@dataclass(frozen=True)
class Page:
    conversations: list[Conversation]
    next_cursor: str | None


def new_reply_token() -> str:
    return secrets.token_hex(10)


def get_conversation(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    return get_scoped(session, Conversation, conversation_id, actor.account_id,
                      *CONVERSATION_LOADS)


def release_assignments(session: Session, actor: Actor, agent_id: int) -> None:
    """An agent who leaves the account lets go of its conversations: they become unassigned,
    so no one waits on someone who can no longer open them."""
    session.execute(scoped_update(Conversation, actor.account_id)
                    .where(Conversation.assignee_id == agent_id).values(assignee_id=None))


def list_conversations(session: Session, actor: Actor, filters: ConversationFilter,
                       *, cursor: str | None = None, limit: int = 25) -> Page:
    """Newest activity first; the cursor is the (activity time, id) of the last row seen."""
    stmt = _filtered(scoped(Conversation, actor.account_id), actor, filters)
    if cursor:
        at, ident = decode_cursor(cursor)
        stmt = stmt.where(or_(Conversation.last_activity_at < at,
                              and_(Conversation.last_activity_at == at, Conversation.id < ident)))
    stmt = stmt.options(*CONVERSATION_LOADS).order_by(
        Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return Page(rows, next_cursor)


def count_conversations(session: Session, actor: Actor, filters: ConversationFilter, *,
                        up_to: int) -> int:
    """How many match, up to `up_to`, for the counts beside the Mine / Unassigned / All views."""
    return count_up_to(session, _filtered(scoped(Conversation, actor.account_id, Conversation.id),
                                          actor, filters), up_to)


def _filtered(stmt: Select[Any], actor: Actor, f: ConversationFilter) -> Select[Any]:
    if f.status is not None:
        stmt = stmt.where(Conversation.status == f.status)
    if f.inbox_id is not None:
        stmt = stmt.where(Conversation.inbox_id == f.inbox_id)
    if f.channel is not None:
        stmt = stmt.where(Conversation.inbox_id.in_(
            select(Inbox.id).where(Inbox.channel == f.channel)))
    if f.assignee == ME:
        stmt = stmt.where(Conversation.assignee_id == actor.agent_id)
    elif f.assignee == UNASSIGNED:
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    elif f.assignee is not None:
        stmt = stmt.where(Conversation.assignee_id == _agent_id(f.assignee))
    if f.team_id is not None:
        stmt = stmt.where(Conversation.team_id == f.team_id)
    if f.contact_id is not None:
        stmt = stmt.where(Conversation.contact_id == f.contact_id)
    if f.tag is not None:
        tagged = (select(conversation_tags.c.conversation_id)
                  .join(Tag, Tag.id == conversation_tags.c.tag_id)
                  .where(Tag.name == f.tag.strip().lower()))
        stmt = stmt.where(Conversation.id.in_(tagged))
    if f.search and f.search.strip():
        stmt = stmt.where(_matching(actor, f.search))
    return stmt


def _matching(actor: Actor, search: str) -> Any:
    """A case-insensitive substring match; `%` and `_` typed by an agent match themselves."""
    escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    identities = scoped(ContactIdentity, actor.account_id, ContactIdentity.contact_id).where(
        func.lower(ContactIdentity.value).like(pattern, escape="\\"))
    contacts = scoped(Contact, actor.account_id, Contact.id).where(
        or_(func.lower(Contact.name).like(pattern, escape="\\"), Contact.id.in_(identities)))
    return or_(func.lower(Conversation.subject).like(pattern, escape="\\"),
               Conversation.contact_id.in_(contacts))


def _agent_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"assignee must be 'me', 'none' or an agent id, not {value!r}") from None


def encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_activity_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, ident = raw.split("|")
        parsed = datetime.fromisoformat(at), int(ident)
        if not 0 <= parsed[1] <= MAX_ID:
            raise ValueError("id out of range")
        return parsed
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("invalid cursor: pass back the next_cursor of a previous page") from None


def update_conversation(session: Session, actor: Actor, conversation_id: int,
                        changes: dict[str, Any]) -> Conversation:
    """Apply the given changes; each visible change leaves an activity line in the thread."""
    conversation = get_conversation(session, actor, conversation_id)
    if "status" in changes:
        set_status(session, actor, conversation, ConversationStatus(changes["status"]),
                   snoozed_until=changes.get("snoozed_until"))
    if "assignee_id" in changes:
        assignee_id = changes["assignee_id"]
        assignee = None if assignee_id is None else get_member(session, actor, assignee_id)
        if conversation.assignee_id != assignee_id:
            conversation.assignee = assignee
            record_activity(session, actor, conversation, "assigned to " + (
                assignee.name if assignee else "nobody"))
    if "team_id" in changes:
        team_id = changes["team_id"]
        team: Team | None = None if team_id is None else get_team(session, actor, team_id)
        if conversation.team_id != team_id:
            conversation.team = team
            record_activity(session, actor, conversation,
                            "moved to team " + team.name if team else "removed from team")
    if "priority" in changes:
        priority = Priority(changes["priority"])
        if conversation.priority != priority:
            conversation.priority = priority
            record_activity(session, actor, conversation, f"set priority to {priority}")
    if "tags" in changes:
        _set_tags(session, actor, conversation, changes["tags"])
    session.flush()
    publish_after_commit(session, RealtimeEvent(actor.account_id, "conversation.updated",
                                                {"conversation_id": conversation.id}))
    return conversation


def set_status(session: Session, actor: Actor, conversation: Conversation,
               status: ConversationStatus, *, snoozed_until: datetime | None = None) -> None:
    if status is ConversationStatus.SNOOZED:
        if snoozed_until is None or snoozed_until <= utcnow():
            raise BadRequest("snoozing needs a snoozed_until time in the future")
    elif snoozed_until is not None:
        raise BadRequest("snoozed_until only goes with status 'snoozed'")
    if conversation.status == status and conversation.snoozed_until == snoozed_until:
        return
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    conversation.resolved_at = utcnow() if status is ConversationStatus.RESOLVED else None
    label = f"snoozed until {snoozed_until:%Y-%m-%d %H:%M} UTC" if snoozed_until else str(status)
    record_activity(session, actor, conversation, f"marked {label}")


def _set_tags(session: Session, actor: Actor, conversation: Conversation,
              names: list[str]) -> None:
    wanted = tags_by_name(session, actor, names, create=True)
    added = sorted({t.name for t in wanted} - {t.name for t in conversation.tags})
    removed = sorted({t.name for t in conversation.tags} - {t.name for t in wanted})
    conversation.tags = wanted
    if added:
        record_activity(session, actor, conversation, "tagged " + ", ".join(added))
    if removed:
        record_activity(session, actor, conversation, "untagged " + ", ".join(removed))


def agent_name(session: Session, agent_id: int | None) -> str:
    agent = session.get(Agent, agent_id) if agent_id else None
    return agent.name if agent else "System"
