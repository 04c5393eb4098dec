"""Invitations: an admin offers a membership to an email address; the person accepts it with
the link's token. The admin's answer never says whether the address already has a login."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from clientcontact.accounts import invitations
from clientcontact.accounts.models import Account, Agent, Invitation, Role
from clientcontact.api.deps import AppSettings, CurrentActor, CurrentAdmin, DbSession
from clientcontact.api.error_docs import error_responses
from clientcontact.db.tenancy import Actor
from clientcontact.inputs import Id, OneLine, PlainText

router = APIRouter(prefix="/api/v1", tags=["agents"])


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: OneLine = Field(min_length=3, max_length=320)
    name: OneLine = Field(min_length=1, max_length=200)
    role: Role = Role.AGENT


class InvitationOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime


class NewInvitationOut(InvitationOut):
    token: str = Field(description="shown once: only a digest is stored")
    url: str = Field(description="the page where the person accepts; hand it to them")


class InvitationToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: OneLine = Field(min_length=1, max_length=200)


class JoinIn(InvitationToken):
    name: OneLine = Field(default="", max_length=200)
    password: PlainText = Field(min_length=1, max_length=1000)


class MembershipOut(BaseModel):
    account_id: int
    account_name: str
    role: str


@router.post("/invitations", response_model=NewInvitationOut,
             status_code=status.HTTP_201_CREATED, responses=error_responses(409))
def invite(body: InvitationIn, session: DbSession, admin: CurrentAdmin,
           settings: AppSettings) -> NewInvitationOut:
    invitation, token = invitations.invite(session, admin, email=body.email, name=body.name,
                                           role=body.role)
    return NewInvitationOut(**_out(invitation).model_dump(), token=token,
                            url=invitations.link(settings.public_url, token))


@router.get("/invitations", response_model=list[InvitationOut])
def pending(session: DbSession, admin: CurrentAdmin) -> list[InvitationOut]:
    return [_out(i) for i in invitations.pending_invitations(session, admin)]


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel(invitation_id: Id, session: DbSession, admin: CurrentAdmin) -> None:
    invitations.cancel_invitation(session, admin, invitation_id)


@router.post("/me/invitations/accept", response_model=MembershipOut,
             responses=error_responses(403, 404))
def accept(body: InvitationToken, session: DbSession, actor: CurrentActor) -> MembershipOut:
    """The logged-in person joins the inviting account; log in there with its `account_id`."""
    agent = session.get_one(Agent, actor.agent_id)
    return _membership(session, invitations.accept(session, body.token, agent))


@router.post("/invitations/join", response_model=MembershipOut,
             status_code=status.HTTP_201_CREATED, responses=error_responses(404, 409))
def join(body: JoinIn, session: DbSession) -> MembershipOut:
    """For an address with no login yet: makes it with this password, then log in."""
    return _membership(session, invitations.join(session, body.token, name=body.name,
                                                 password=body.password))


@router.post("/invitations/decline", status_code=status.HTTP_204_NO_CONTENT,
             responses=error_responses(404))
def decline(body: InvitationToken, session: DbSession) -> None:
    invitations.decline(session, body.token)


def _out(invitation: Invitation) -> InvitationOut:
    return InvitationOut.model_validate(invitation, from_attributes=True)


def _membership(session: DbSession, actor: Actor) -> MembershipOut:
    account = session.get_one(Account, actor.account_id)
    return MembershipOut(account_id=account.id, account_name=account.name, role=actor.role)
