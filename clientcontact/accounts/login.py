"""Every check of a password an agent types goes through here: logging in (UI, API, any later
way) and changing a password. So one throttle counts every guess, wherever it is made, and a
published password (the demo's) never opens a real deployment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clientcontact.accounts import passwords
from clientcontact.accounts import service as accounts
from clientcontact.accounts.login_throttle import LoginThrottle
from clientcontact.accounts.models import Agent
from clientcontact.db.tenancy import Actor
from clientcontact.errors import Forbidden, Unauthenticated


class PublishedPasswordRefused(Forbidden):
    code = "published_password_refused"


@dataclass(frozen=True)
class Logins:
    throttle: LoginThrottle
    # Passwords anyone can read (the demo's, printed in the README): refused even when right.
    refused_passwords: frozenset[str] = frozenset()

    def log_in(self, session: Session, client_ip: str, email: str, password: str,
               account_id: int | None = None) -> Actor:
        """The actor for a right email and password, unless this (IP, email) has failed too
        often lately: then TooManyAttempts, even for the right password."""
        agent = self.verify(session, client_ip, email, password)
        return accounts.actor_for(session, agent, account_id)

    def verify(self, session: Session, client_ip: str, email: str, password: str) -> Agent:
        """The login of this email and password, whatever accounts it works in (accepting an
        invitation needs no membership yet), throttled and refused like a login."""
        self.throttle.check(client_ip, email)
        try:
            agent = accounts.verify_login(session, email, password)
        except Unauthenticated:
            self.throttle.failed(client_ip, email)
            raise
        if password in self.refused_passwords:
            raise PublishedPasswordRefused(
                "this login uses the demo's published password, which this server refuses "
                "because it has real providers or an https PUBLIC_URL; create an admin with "
                "`clientcontact create-admin` (or set SEED_DEMO=true for a deliberate demo)")
        self.throttle.succeeded(client_ip, email)
        return agent

    def change_password(self, session: Session, client_ip: str, actor: Actor, *, current: str,
                        new: str, keep_login: str | None = None) -> None:
        """A wrong current password is a failed guess like a wrong login."""
        agent = session.get(Agent, actor.agent_id)
        email = agent.email if agent else ""
        self.throttle.check(client_ip, email)
        try:
            passwords.change_password(session, actor, current=current, new=new,
                                      keep_login=keep_login)
        except passwords.WrongPassword:
            self.throttle.failed(client_ip, email)
            raise
