"""Telling open live streams that someone's access changed (logged out, password changed,
deactivated, removed, moved to another account), so each checks its login and closes if it
no longer opens the account. The event carries only the agent's id; streams never trust it
further than as a reason to check."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from clientcontact.realtime.bus import RealtimeEvent, publish_after_commit

ACCESS_CHANGED = "access.changed"


def announce_access_changed(session: Session, agent_id: int, account_ids: Iterable[int]) -> None:
    for account_id in sorted(set(account_ids)):
        publish_after_commit(session, RealtimeEvent(account_id, ACCESS_CHANGED,
                                                    {"agent_id": agent_id}))
