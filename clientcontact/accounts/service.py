"""Accounts, agents and how an agent proves who they are (login sessions, API tokens)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clientcontact.accounts.access import announce_access_changed
from clientcontact.accounts.credentials import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from clientcontact.accounts.models import (
    Account,
    Agent,
    ApiToken,
    LoginSession,
    Membership,
    Role,
)
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import Actor, scoped
from clientcontact.errors import Conflict, Forbidden, NotFound, Unauthenticated
from clientcontact.inputs import is_id


def create_account(session: Session, name: str) -> Account:
    account = Account(name=name)
    session.add(account)
    session.flush()
    return account


def create_agent(session: Session, *, email: str, name: str, password: str) -> Agent:
    email = normalize_email(email)
    if session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise Conflict(f"an agent with email {email} already exists")
    agent = Agent(email=email, name=name, password_hash=hash_password(password))
    session.add(agent)
    session.flush()
    return agent


def add_member(session: Session, account: Account, agent: Agent, role: Role) -> Membership:
    membership = Membership(account_id=account.id, agent_id=agent.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def memberships_of(session: Session, agent_id: int) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.agent_id == agent_id).order_by(Membership.id)))


def authenticate(session: Session, email: str, password: str,
                 account_id: int | None = None) -> Actor:
    """The actor for a correct email and password; one message for every kind of miss."""
    return actor_for(session, verify_login(session, email, password), account_id)


def verify_login(session: Session, email: str, password: str) -> Agent:
    """The active login of this email and password, whatever accounts it works in."""
    agent = session.scalar(select(Agent).where(Agent.email == normalize_email(email)))
    ok = verify_password(agent.password_hash if agent else None, password)
    if not ok or agent is None or not agent.is_active:
        raise Unauthenticated("wrong email or password")
    return agent


def normalize_email(email: str) -> str:
    return email.strip().lower()


def actor_for(session: Session, agent: Agent, account_id: int | None) -> Actor:
    """The agent acting in `account_id`, or in their first account when none is asked for."""
    if account_id is None:
        memberships = memberships_of(session, agent.id)
        membership = memberships[0] if memberships else None
    elif not is_id(account_id):
        membership = None  # no account has such an id, and the database cannot compare it
    else:
        membership = session.scalar(
            scoped(Membership, account_id).where(Membership.agent_id == agent.id))
    if membership is None:
        raise Unauthenticated("this agent has no access to that account")
    return Actor(account_id=membership.account_id, agent_id=agent.id,
                 role=membership.role.value)


def start_login_session(session: Session, actor: Actor, *, max_age: timedelta) -> str:
    """Return the cookie value; only its digest is stored, so a database leak logs no one in."""
    token = new_token("ccs")
    session.add(LoginSession(
        account_id=actor.account_id, agent_id=actor.agent_id, token_hash=token_digest(token),
        expires_at=utcnow() + max_age,
    ))
    session.flush()
    return token


def end_login_session(session: Session, token: str) -> None:
    login = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token)))
    if login is not None:
        session.delete(login)
        announce_access_changed(session, login.agent_id, [login.account_id])


def actor_from_login_session(session: Session, token: str) -> Actor:
    login = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token)))
    if login is None or login.expires_at <= utcnow():
        raise Unauthenticated("your session has expired; log in again")
    return _active_actor(session, login.agent_id, login.account_id)


def accounts_of(session: Session, agent_id: int) -> list[Account]:
    """Every account the agent works in, by name: what the account switcher offers."""
    return list(session.scalars(
        select(Account).join(Membership)  # on the membership's foreign key
        .where(Membership.agent_id == agent_id).order_by(Account.name)))


def switch_login_account(session: Session, token: str, account_id: int) -> Actor:
    """Move a login session to another of the agent's accounts; one login serves them all."""
    login = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token)))
    if login is None or login.expires_at <= utcnow():
        raise Unauthenticated("your session has expired; log in again")
    try:
        actor = _active_actor(session, login.agent_id, account_id)
    except Unauthenticated:
        raise Forbidden("you are not an agent of that account") from None
    announce_access_changed(session, login.agent_id, [login.account_id])
    login.account_id = account_id
    session.flush()
    return actor


def create_api_token(session: Session, actor: Actor, name: str) -> tuple[ApiToken, str]:
    """The plain token is returned once, here, and never again."""
    token = new_token("cct")
    row = ApiToken(account_id=actor.account_id, agent_id=actor.agent_id, name=name,
                   token_hash=token_digest(token), prefix=token[:10])
    session.add(row)
    session.flush()
    return row, token


def actor_from_api_token(session: Session, token: str) -> Actor:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("invalid or revoked API token")
    row.last_used_at = utcnow()
    return _active_actor(session, row.agent_id, row.account_id)


def _visible_tokens(actor: Actor) -> Select[tuple[ApiToken]]:
    """An admin sees every token of the account, an agent only their own: a token acts with
    its agent's rights, so someone else's token would be someone else's rights."""
    stmt = scoped(ApiToken, actor.account_id)
    return stmt if actor.is_admin else stmt.where(ApiToken.agent_id == actor.agent_id)


def list_api_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    return list(session.scalars(_visible_tokens(actor).order_by(ApiToken.id)))


def revoke_api_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Another agent's token looks absent to an agent, like another account's."""
    row = session.scalar(_visible_tokens(actor).where(ApiToken.id == token_id))
    if row is None:
        raise NotFound(f"apitoken {token_id} not found")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def _active_actor(session: Session, agent_id: int, account_id: int) -> Actor:
    agent = session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise Unauthenticated("this agent is deactivated")
    return actor_for(session, agent, account_id)


def list_agents(session: Session, actor: Actor) -> list[tuple[Agent, Membership]]:
    rows = session.execute(
        scoped(Membership, actor.account_id, Agent, Membership)
        .join(Agent, Agent.id == Membership.agent_id)
        .order_by(Agent.name)
    )
    return [(agent, membership) for agent, membership in rows]


def get_member(session: Session, actor: Actor, agent_id: int) -> Agent:
    """An agent of the actor's account; an agent of another account looks absent."""
    membership = is_id(agent_id) and session.scalar(
        scoped(Membership, actor.account_id).where(Membership.agent_id == agent_id))
    if not membership:
        raise NotFound(f"agent {agent_id} not found")
    agent = session.get(Agent, agent_id)
    assert agent is not None
    return agent
