"""An agent's own password: changed by the agent, and owed when someone else chose it."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from clientcontact.accounts.access import announce_access_changed
from clientcontact.accounts.credentials import hash_password, token_digest, verify_password
from clientcontact.accounts.models import Agent, LoginSession
from clientcontact.accounts.service import memberships_of
from clientcontact.db.tenancy import Actor
from clientcontact.errors import BadRequest, Forbidden

MIN_LENGTH = 10


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"


class WrongPassword(BadRequest):
    """The current password given to change it is not right: a failed guess."""


def owes_new_password(session: Session, actor: Actor) -> bool:
    """True while the agent still logs in with a password someone else chose."""
    agent = session.get(Agent, actor.agent_id)  # usually already loaded with the actor
    return agent is not None and agent.must_change_password


def require_long_enough(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"a password needs at least {MIN_LENGTH} characters")


def change_password(session: Session, actor: Actor, *, current: str, new: str,
                    keep_login: str | None = None) -> None:
    """Call it through `accounts.login.Logins`, which throttles guesses. Every other login
    session of the agent ends: whoever knew the old password is out.
    `keep_login` is the cookie of the session making the change, which stays."""
    agent = session.get(Agent, actor.agent_id)
    if agent is None or not verify_password(agent.password_hash, current):
        raise WrongPassword("the current password is not right")
    require_long_enough(new)
    if new == current:
        raise BadRequest("the new password must differ from the current one")
    agent.password_hash = hash_password(new)
    agent.must_change_password = False
    others = delete(LoginSession).where(LoginSession.agent_id == agent.id)
    if keep_login:
        others = others.where(LoginSession.token_hash != token_digest(keep_login))
    session.execute(others)
    announce_access_changed(session, agent.id,
                            [m.account_id for m in memberships_of(session, agent.id)])
    session.flush()
