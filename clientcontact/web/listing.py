"""The inbox list: which conversations an agent asked for, and what each row shows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from clientcontact.channels.base import ChannelKind
from clientcontact.conversations import reads
from clientcontact.conversations.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
)
from clientcontact.conversations.service import (
    ME,
    UNASSIGNED,
    ConversationFilter,
    count_conversations,
    list_conversations,
)
from clientcontact.db.tenancy import Actor, scoped
from clientcontact.inputs import is_id

VIEWS = {"mine": ME, "unassigned": UNASSIGNED, "all": None}
VIEW_LABELS = {"mine": "Mine", "unassigned": "Unassigned", "all": "All"}
STATUSES = ["open", "pending", "snoozed", "resolved", "any"]
PREVIEW_CHARS = 140
# Counting stops here: a view with 100k open conversations would otherwise cost a full index
# scan on every live refresh, for a number nobody reads past "999+" (GitHub's tabs say "5k+").
VIEW_COUNT_CAP = 1000
UNREAD_BADGE_CAP = 100


@dataclass(frozen=True)
class ListQuery:
    """The list as the URL describes it, so a reload or a shared link shows the same rows."""

    view: str = "all"
    status: str = "open"
    inbox: int | None = None
    channel: ChannelKind | None = None
    team: int | None = None
    tag: str | None = None
    q: str = ""
    cursor: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, str]) -> ListQuery:
        channel = params.get("channel") or None
        return cls(
            view=params.get("view") if params.get("view") in VIEWS else "all",
            status=params.get("status") if params.get("status") in STATUSES else "open",
            inbox=_int(params.get("inbox")), team=_int(params.get("team")),
            channel=ChannelKind(channel) if channel in set(ChannelKind) else None,
            tag=(params.get("tag") or "").strip() or None, q=(params.get("q") or "").strip(),
            cursor=params.get("cursor") or None,
        )

    def filter(self, view: str | None = None) -> ConversationFilter:
        status = None if self.status == "any" else ConversationStatus(self.status)
        return ConversationFilter(status=status, inbox_id=self.inbox, channel=self.channel,
                                  assignee=VIEWS[view or self.view], team_id=self.team,
                                  tag=self.tag, search=self.q or None)

    def params(self, **changes: object) -> str:
        """The query string for this list with some values changed; defaults left out."""
        query = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        values = {"view": query.view, "status": query.status, "inbox": query.inbox,
                  "channel": query.channel, "team": query.team, "tag": query.tag, "q": query.q,
                  "cursor": query.cursor}
        defaults = ListQuery()
        kept = {k: v for k, v in values.items()
                if v not in (None, "") and v != getattr(defaults, k)}
        return urlencode(kept)


@dataclass(frozen=True)
class Row:
    conversation: Conversation
    preview: str
    preview_is_note: bool
    unread: bool


@dataclass(frozen=True)
class InboxList:
    query: ListQuery
    rows: list[Row]
    next_cursor: str | None
    counts: dict[str, int]
    unread_mine: int

    def count_label(self, view: str) -> str:
        return _capped(self.counts[view], VIEW_COUNT_CAP)

    @property
    def unread_mine_label(self) -> str:
        return _capped(self.unread_mine, UNREAD_BADGE_CAP)


def load_list(session: Session, actor: Actor, query: ListQuery, *, limit: int = 25,
              with_counts: bool = True) -> InboxList:
    page = list_conversations(session, actor, query.filter(), cursor=query.cursor, limit=limit)
    unread = reads.unread_ids(session, actor, page.conversations)
    latest = last_messages(session, actor, [c.id for c in page.conversations])
    rows = []
    for conversation in page.conversations:
        message = latest.get(conversation.id)
        text = " ".join((message.text if message else "").split())
        rows.append(Row(conversation, text[:PREVIEW_CHARS],
                        message is not None and message.kind is MessageKind.NOTE,
                        conversation.id in unread))
    if not with_counts:
        return InboxList(query, rows, page.next_cursor, {}, 0)
    counts = {view: count_conversations(session, actor, query.filter(view), up_to=VIEW_COUNT_CAP)
              for view in VIEWS}
    return InboxList(query, rows, page.next_cursor, counts,
                     reads.unread_mine(session, actor, up_to=UNREAD_BADGE_CAP))


def last_messages(session: Session, actor: Actor, conversation_ids: list[int]
                  ) -> dict[int, Message]:
    """The newest message or note of each conversation: the row's preview line."""
    if not conversation_ids:
        return {}
    newest = (scoped(Message, actor.account_id, func.max(Message.id))
              .where(Message.conversation_id.in_(conversation_ids),
                     Message.kind.in_([MessageKind.MESSAGE, MessageKind.NOTE]))
              .group_by(Message.conversation_id))
    messages = session.scalars(select(Message).where(Message.id.in_(newest)).options(
        load_only(Message.id, Message.conversation_id, Message.kind, Message.text)))
    return {m.conversation_id: m for m in messages}


def _capped(count: int, cap: int) -> str:
    return f"{cap - 1}+" if count >= cap else str(count)


def _int(value: str | None) -> int | None:
    """An id from the address bar; anything else (a word, a number no row has) is no filter."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and is_id(number) else None
