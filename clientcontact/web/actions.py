"""Changing a conversation from its header: status, snooze, assignee, team, priority, tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from clientcontact.api.deps import DbSession
from clientcontact.conversations.service import update_conversation
from clientcontact.errors import BadRequest
from clientcontact.web.deps import WebActor
from clientcontact.web.screens import load_conversation
from clientcontact.web.templating import render

router = APIRouter()


FormText = Annotated[str | None, Form(max_length=2000)]


@router.post("/conversations/{conversation_id}/update")
def update(conversation_id: int, request: Request, session: DbSession, actor: WebActor,
           status: FormText = None, snoozed_until: FormText = None, tz_offset: FormText = None,
           assignee_id: FormText = None, team_id: FormText = None, priority: FormText = None,
           tags: FormText = None) -> Response:
    """Only the fields the form sent change; each change leaves an activity line."""
    sent = {"status": status, "snoozed_until": snoozed_until, "tz_offset": tz_offset,
            "assignee_id": assignee_id, "team_id": team_id, "priority": priority, "tags": tags}
    changes = form_changes({k: v for k, v in sent.items() if v is not None})
    if changes:
        update_conversation(session, actor, conversation_id, changes)
    screen = load_conversation(session, actor, conversation_id, mark_read=False,
                               with_thread=False)
    return render(request, "conversation/header.html",
                  {"screen": screen, "conversation": screen.conversation},
                  headers={"HX-Trigger": "thread-changed"})


def form_changes(fields: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "status" in fields:
        changes["status"] = fields["status"]
        if fields["status"] == "snoozed":
            changes["snoozed_until"] = _snooze_until(fields.get("snoozed_until", ""),
                                                     fields.get("tz_offset", "0"))
    for name in ("assignee_id", "team_id"):
        if name in fields:
            changes[name] = _optional_id(fields[name], name)
    if "priority" in fields:
        changes["priority"] = fields["priority"]
    if "tags" in fields:
        changes["tags"] = [t for t in (part.strip() for part in fields["tags"].split(",")) if t]
    return changes


def _optional_id(value: str, name: str) -> int | None:
    if value in ("", "none"):
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an id") from None


def _snooze_until(local: str, tz_offset: str) -> datetime:
    """A datetime-local value is the agent's wall clock; the page sends its UTC offset
    (JavaScript's getTimezoneOffset: minutes to add to get UTC)."""
    try:
        wall = datetime.fromisoformat(local)
        offset = timedelta(minutes=int(tz_offset or 0))
    except ValueError:
        raise BadRequest("pick a date and time to snooze until") from None
    return (wall + offset).replace(tzinfo=UTC) if wall.tzinfo is None else wall.astimezone(UTC)
