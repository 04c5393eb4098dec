"""Bringing agents into an account and taking them out: invite with a one-time password,
change role, deactivate and reactivate."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clientcontact.accounts.models import Account, Agent, LoginSession, Membership, Role
from clientcontact.accounts.service import add_member, create_agent, memberships_of
from clientcontact.db.tenancy import Actor, scoped
from clientcontact.errors import BadRequest, Conflict, NotFound


def invite_agent(session: Session, actor: Actor, *, email: str, name: str,
                 role: Role) -> tuple[Agent, str | None]:
    """A new person gets a random password, shown once to the admin to pass on and changed by
    the agent at first login; someone who already has a login elsewhere just gains this
    account and keeps their password."""
    email = email.strip().lower()
    if not name.strip():
        raise BadRequest("an agent needs a name")
    existing = session.scalar(select(Agent).where(Agent.email == email))
    password: str | None = None
    if existing is None:
        password = secrets.token_urlsafe(12)
        agent = create_agent(session, email=email, name=name.strip(), password=password)
        agent.must_change_password = True  # the admin saw it; only the agent may know theirs
    else:
        agent = existing
        already = session.scalar(
            scoped(Membership, actor.account_id).where(Membership.agent_id == agent.id))
        if already is not None:
            raise Conflict(f"{email} is already an agent here")
    account = session.get(Account, actor.account_id)
    assert account is not None
    add_member(session, account, agent, role)
    return agent, password


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
    in this account alone can be deactivated from here.
    """
    _membership(session, actor, agent_id)
    if agent_id == actor.agent_id:
        raise Conflict("you cannot deactivate yourself")
    if len(memberships_of(session, agent_id)) > 1:
        raise Conflict("this agent also works in other accounts; ask them to leave instead")
    agent = session.get(Agent, agent_id)
    assert agent is not None
    agent.is_active = active
    if not active:
        session.execute(delete(LoginSession).where(LoginSession.agent_id == agent_id))
    session.flush()
    return agent


def _membership(session: Session, actor: Actor, agent_id: int) -> Membership:
    membership = session.scalar(
        scoped(Membership, actor.account_id).where(Membership.agent_id == agent_id))
    if membership is None:
        raise NotFound(f"agent {agent_id} not found")
    return membership
