"""Teams group agents so conversations can be routed to a group rather than a person."""

from __future__ import annotations

from sqlalchemy.orm import Session, selectinload

from clientcontact.accounts.models import Team, TeamMember
from clientcontact.accounts.service import get_member
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import Conflict


def list_teams(session: Session, actor: Actor) -> list[Team]:
    stmt = scoped(Team, actor.account_id).options(selectinload(Team.members)).order_by(Team.name)
    return list(session.scalars(stmt))


def get_team(session: Session, actor: Actor, team_id: int) -> Team:
    return get_scoped(session, Team, team_id, actor.account_id, selectinload(Team.members))


def _free_name(session: Session, actor: Actor, name: str, team: Team | None = None) -> str:
    """The stripped name, if no other team of the account has it (a rename as a create)."""
    name = name.strip()
    taken = session.scalar(scoped(Team, actor.account_id).where(Team.name == name))
    if taken is not None and taken is not team:
        raise Conflict(f"a team named {name!r} already exists")
    return name


def create_team(session: Session, actor: Actor, name: str, agent_ids: list[int]) -> Team:
    team = Team(account_id=actor.account_id, name=_free_name(session, actor, name), members=[])
    session.add(team)
    session.flush()
    set_members(session, actor, team, agent_ids)
    return team


def rename_team(session: Session, actor: Actor, team: Team, name: str) -> Team:
    team.name = _free_name(session, actor, name, team)
    return team


def set_members(session: Session, actor: Actor, team: Team, agent_ids: list[int]) -> Team:
    for agent_id in agent_ids:
        get_member(session, actor, agent_id)  # 404 for anyone outside the account
    wanted = dict.fromkeys(agent_ids)
    team.members = [m for m in team.members if m.agent_id in wanted]  # orphans are deleted
    present = {m.agent_id for m in team.members}
    team.members.extend(
        TeamMember(account_id=actor.account_id, team_id=team.id, agent_id=agent_id)
        for agent_id in wanted if agent_id not in present
    )
    session.flush()
    return team


def delete_team(session: Session, actor: Actor, team_id: int) -> None:
    session.delete(get_team(session, actor, team_id))
    session.flush()
