"""Teams and the account's agents."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from clientcontact.accounts import service as accounts
from clientcontact.accounts import teams
from clientcontact.accounts.members import remove_member
from clientcontact.accounts.models import Team
from clientcontact.api.deps import CurrentActor, CurrentAdmin, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.inputs import Id, OneLine

router = APIRouter(prefix="/api/v1", tags=["teams"])


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: OneLine = Field(min_length=1, max_length=100)
    agent_ids: list[Id] = Field(default_factory=list, max_length=1000)


class TeamOut(BaseModel):
    id: int
    name: str
    agent_ids: list[int]

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(id=team.id, name=team.name, agent_ids=[m.agent_id for m in team.members])


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    role: str
    is_active: bool


@router.get("/agents", response_model=list[AgentOut])
def list_agents(session: DbSession, actor: CurrentActor) -> list[AgentOut]:
    return [AgentOut(id=a.id, name=a.name, email=a.email, role=m.role.value,
                     is_active=a.is_active) for a, m in accounts.list_agents(session, actor)]


@router.delete("/agents/{agent_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(409))
def remove_agent(agent_id: Id, session: DbSession, admin: CurrentAdmin) -> None:
    """Ends the agent's membership of this account (not their login, nor their other
    accounts): their sessions here end and their tokens for it are revoked at once."""
    remove_member(session, admin, agent_id)


@router.get("/teams", response_model=list[TeamOut])
def list_teams(session: DbSession, actor: CurrentActor) -> list[TeamOut]:
    return [TeamOut.of(t) for t in teams.list_teams(session, actor)]


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(404, 409))
def create_team(body: TeamIn, session: DbSession, admin: CurrentAdmin) -> TeamOut:
    return TeamOut.of(teams.create_team(session, admin, body.name, body.agent_ids))


@router.get("/teams/{team_id}", response_model=TeamOut)
def get_team(team_id: Id, session: DbSession, actor: CurrentActor) -> TeamOut:
    return TeamOut.of(teams.get_team(session, actor, team_id))


@router.put("/teams/{team_id}", response_model=TeamOut, responses=error_responses(409))
def update_team(team_id: Id, body: TeamIn, session: DbSession, admin: CurrentAdmin) -> TeamOut:
    team = teams.rename_team(session, admin, teams.get_team(session, admin, team_id), body.name)
    return TeamOut.of(teams.set_members(session, admin, team, body.agent_ids))


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_team(team_id: Id, session: DbSession, admin: CurrentAdmin) -> None:
    teams.delete_team(session, admin, team_id)
