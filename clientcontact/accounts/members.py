"""An account's members: their role, deactivating a login, and removing a membership."""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlalchemy.orm import Session

from clientcontact.accounts.access import announce_access_changed
from clientcontact.accounts.models import (
    Agent,
    ApiToken,
    LoginSession,
    Membership,
    Role,
    TeamMember,
)
from clientcontact.accounts.service import memberships_of
from clientcontact.conversations.service import release_assignments
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import Actor, scoped, scoped_delete, scoped_update
from clientcontact.errors import Conflict, NotFound


def set_role(session: Session, actor: Actor, agent_id: int, role: Role) -> Membership:
    membership = _membership(session, actor, agent_id)
    if agent_id == actor.agent_id and role is not Role.ADMIN:
        raise Conflict("you cannot take away your own admin role")
    membership.role = role
    session.flush()
    return membership


def set_active(session: Session, actor: Actor, agent_id: int, active: bool) -> Agent:
    """Deactivating logs the agent out everywhere and stops their API tokens at once.

    An agent's login is shared by every account they belong to, so only an agent who works
    in this account alone can be deactivated from here; others are removed from it instead.
    """
    _membership(session, actor, agent_id)
    if agent_id == actor.agent_id:
        raise Conflict("you cannot deactivate yourself")
    if len(memberships_of(session, agent_id)) > 1:
        raise Conflict("this agent also works in other accounts; remove them from this one "
                       "instead")
    agent = session.get(Agent, agent_id)
    assert agent is not None
    agent.is_active = active
    if not active:
        session.execute(delete(LoginSession).where(LoginSession.agent_id == agent_id))
        announce_access_changed(session, agent_id, [actor.account_id])
    session.flush()
    return agent


def remove_member(session: Session, actor: Actor, agent_id: int) -> None:
    """Take the membership, not the person: their login and their other accounts stay.

    Their access here ends with this transaction: their login sessions in this account end,
    their tokens for it are revoked, and their teams and conversations here let go of them.
    """
    membership = _membership(session, actor, agent_id)
    if membership.role is Role.ADMIN and _admin_count(session, actor.account_id) <= 1:
        raise Conflict("an account keeps at least one admin: make someone else admin first")
    session.delete(membership)
    session.execute(scoped_delete(LoginSession, actor.account_id)
                    .where(LoginSession.agent_id == agent_id))
    session.execute(scoped_update(ApiToken, actor.account_id)
                    .where(ApiToken.agent_id == agent_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
    session.execute(scoped_delete(TeamMember, actor.account_id)
                    .where(TeamMember.agent_id == agent_id))
    release_assignments(session, actor, agent_id)
    announce_access_changed(session, agent_id, [actor.account_id])
    session.flush()


def _admin_count(session: Session, account_id: int) -> int:
    return session.scalar(scoped(Membership, account_id, func.count())
                          .where(Membership.role == Role.ADMIN)) or 0


def _membership(session: Session, actor: Actor, agent_id: int) -> Membership:
    membership = session.scalar(
        scoped(Membership, actor.account_id).where(Membership.agent_id == agent_id))
    if membership is None:
        raise NotFound(f"agent {agent_id} not found")
    return membership
