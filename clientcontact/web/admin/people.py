"""Agents (invite, role, deactivate, remove) and teams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from clientcontact.accounts import invitations, members, teams
from clientcontact.accounts.models import Role
from clientcontact.accounts.service import list_agents
from clientcontact.api.deps import AppSettings, DbSession
from clientcontact.db.tenancy import Actor
from clientcontact.web.admin.pages import admin_page
from clientcontact.web.deps import WebAdmin

router = APIRouter()


@router.get("/agents")
def agent_list(request: Request, session: DbSession, admin: WebAdmin) -> Response:
    return _agents(request, session, admin)


@router.post("/agents")
def invite(request: Request, session: DbSession, admin: WebAdmin, settings: AppSettings,
           email: Annotated[str, Form(min_length=3, max_length=320)],
           name: Annotated[str, Form(min_length=1, max_length=200)],
           role: Annotated[Role, Form()] = Role.AGENT) -> Response:
    """The page answers the same whether or not the address has a login elsewhere."""
    invitation, token = invitations.invite(session, admin, email=email, name=name, role=role)
    return _agents(request, session, admin,
                   invited=(invitation.email, invitations.link(settings.public_url, token)))


@router.post("/invitations/{invitation_id}/cancel")
def cancel_invitation(invitation_id: int, request: Request, session: DbSession,
                      admin: WebAdmin) -> Response:
    invitations.cancel_invitation(session, admin, invitation_id)
    return _agents(request, session, admin)


@router.post("/agents/{agent_id}/role")
def change_role(agent_id: int, request: Request, session: DbSession, admin: WebAdmin,
                role: Annotated[Role, Form()]) -> Response:
    members.set_role(session, admin, agent_id, role)
    return _agents(request, session, admin)


@router.post("/agents/{agent_id}/active")
def change_active(agent_id: int, request: Request, session: DbSession, admin: WebAdmin,
                  active: Annotated[bool, Form()]) -> Response:
    members.set_active(session, admin, agent_id, active)
    return _agents(request, session, admin)


@router.post("/agents/{agent_id}/remove")
def remove(agent_id: int, request: Request, session: DbSession, admin: WebAdmin) -> Response:
    members.remove_member(session, admin, agent_id)
    return _agents(request, session, admin)


def _agents(request: Request, session: Session, admin: Actor,
            invited: tuple[str, str] | None = None) -> Response:
    return admin_page(request, session, admin, "agents", {
        "members": list_agents(session, admin), "roles": list(Role), "invited": invited,
        "invitations": invitations.pending_invitations(session, admin)})


@router.get("/teams")
def team_list(request: Request, session: DbSession, admin: WebAdmin) -> Response:
    return _teams(request, session, admin)


@router.post("/teams")
def create_team(request: Request, session: DbSession, admin: WebAdmin,
                name: Annotated[str, Form(min_length=1, max_length=100)],
                agent_ids: Annotated[list[int] | None, Form()] = None) -> Response:
    teams.create_team(session, admin, name, agent_ids or [])
    return _teams(request, session, admin)


@router.post("/teams/{team_id}")
def update_team(team_id: int, request: Request, session: DbSession, admin: WebAdmin,
                agent_ids: Annotated[list[int] | None, Form()] = None) -> Response:
    teams.set_members(session, admin, teams.get_team(session, admin, team_id), agent_ids or [])
    return _teams(request, session, admin)


@router.post("/teams/{team_id}/delete")
def delete_team(team_id: int, request: Request, session: DbSession,
                admin: WebAdmin) -> Response:
    teams.delete_team(session, admin, team_id)
    return _teams(request, session, admin)


def _teams(request: Request, session: Session, admin: Actor) -> Response:
    return admin_page(request, session, admin, "teams", {
        "teams": teams.list_teams(session, admin),
        "agents": [agent for agent, _ in list_agents(session, admin)]})
