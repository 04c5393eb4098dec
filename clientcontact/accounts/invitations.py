"""Bringing people into an account: an admin invites an email address, the person accepts.

A login (a person) is global; a membership is per account. An invitation is only an offer:
it gives access once the person accepts it with the link's token *and* proves who they are,
with their own password or session, or by choosing the first password of a new login.

Nothing the inviting admin sees depends on whether the address already has a login somewhere
(that would tell one account about another's people), and no admin ever sees or chooses a
password. Whoever uses a link can tell whether its address has a login, as with any sign-up
form: a link can make a new login but never opens an existing one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientcontact.accounts.credentials import new_token, token_digest
from clientcontact.accounts.models import Account, Agent, Invitation, Membership, Role
from clientcontact.accounts.passwords import require_long_enough
from clientcontact.accounts.service import add_member, create_agent, normalize_email
from clientcontact.db.base import utcnow
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import BadRequest, Conflict, Forbidden, NotFound

VALID_FOR = timedelta(days=7)


def invite(session: Session, actor: Actor, *, email: str, name: str,
           role: Role) -> tuple[Invitation, str]:
    """A pending invitation and its token, returned once, here: the admin hands the link to
    the person. Inviting the same address again replaces the earlier link."""
    email = normalize_email(email)
    if not name.strip():
        raise BadRequest("an agent needs a name")
    local, _, domain = email.partition("@")
    if not local or "." not in domain:
        raise BadRequest(f"{email!r} is not an email address")
    member = session.scalar(
        scoped(Membership, actor.account_id, Membership.id)
        .join(Agent, Agent.id == Membership.agent_id).where(Agent.email == email))
    if member is not None:
        raise Conflict(f"{email} is already an agent here")
    invitation = session.scalar(
        scoped(Invitation, actor.account_id).where(Invitation.email == email))
    if invitation is None:
        invitation = Invitation(account_id=actor.account_id, email=email)
        session.add(invitation)
    token = new_token("cci")
    invitation.name, invitation.role = name.strip(), role
    invitation.token_hash = token_digest(token)
    invitation.invited_by_id = actor.agent_id
    invitation.created_at = utcnow()
    invitation.expires_at = invitation.created_at + VALID_FOR
    session.flush()
    return invitation, token


def link(public_url: str, token: str) -> str:
    """What the admin hands to the person: the page that accepts the invitation."""
    return f"{public_url.rstrip('/')}/invitations/{token}"


def pending_invitations(session: Session, actor: Actor) -> list[Invitation]:
    return list(session.scalars(scoped(Invitation, actor.account_id).order_by(Invitation.email)))


def cancel_invitation(session: Session, actor: Actor, invitation_id: int) -> None:
    session.delete(get_scoped(session, Invitation, invitation_id, actor.account_id))
    session.flush()


def invitation_for(session: Session, token: str) -> Invitation:
    """The pending invitation a link opens; a used, cancelled or expired one looks unknown."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_digest(token)))
    if invitation is None or invitation.expires_at <= utcnow():
        raise NotFound("this invitation is not valid any more: ask for a new link")
    return invitation


def accept(session: Session, token: str, agent: Agent) -> Actor:
    """An existing login joins, once it has proved itself (the caller checked its session or
    password). A login still on a one-time password someone else chose cannot join anything:
    that password may be known to the admin who chose it."""
    invitation = invitation_for(session, token)
    if agent.email != invitation.email:
        raise Forbidden(f"this invitation is for {invitation.email}; log in as that address")
    if not agent.is_active:
        raise Forbidden("this login is deactivated")
    if agent.must_change_password:
        raise Forbidden("choose your own password first, then open the invitation again")
    return _become_member(session, invitation, agent)


def join(session: Session, token: str, *, name: str, password: str) -> Actor:
    """A person new here makes their login with the password they choose. A link never sets
    the password of an existing login: its holder may be the admin, not the person."""
    invitation = invitation_for(session, token)
    require_long_enough(password)
    if session.scalar(select(Agent.id).where(Agent.email == invitation.email)) is not None:
        raise Conflict(f"{invitation.email} already has a login: use its password to accept")
    agent = create_agent(session, email=invitation.email, name=name.strip() or invitation.name,
                         password=password)
    return _become_member(session, invitation, agent)


def decline(session: Session, token: str) -> None:
    session.delete(invitation_for(session, token))
    session.flush()


def _become_member(session: Session, invitation: Invitation, agent: Agent) -> Actor:
    membership = session.scalar(
        scoped(Membership, invitation.account_id).where(Membership.agent_id == agent.id))
    if membership is None:
        account = session.get_one(Account, invitation.account_id)
        membership = add_member(session, account, agent, invitation.role)
    session.delete(invitation)
    session.flush()
    return Actor(account_id=membership.account_id, agent_id=agent.id,
                 role=membership.role.value)
