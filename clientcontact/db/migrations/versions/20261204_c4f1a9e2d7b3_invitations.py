"""invitations: a membership is offered to an email and accepted with the link's token

Revision ID: c4f1a9e2d7b3
Revises: e7d2b5c8a913
Create Date: 2026-12-04 15:20:00.000000

A login still on a one-time password was chosen by the admin who invited it, who may also be
the one using it. Every membership such a login gained after its first (an account that
invited an email which "already had a login") becomes a pending invitation again: its admin
sees it as invited and sends a fresh link, which the person accepts with their own password.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import clientcontact.db.base

revision = 'c4f1a9e2d7b3'
down_revision = 'e7d2b5c8a913'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    invitations = op.create_table(
        'invitations',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.Enum('admin', 'agent', name='role', native_enum=False, length=20),
                  nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', ID, nullable=True),
        sa.Column('created_at', clientcontact.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', clientcontact.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_invitations_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['agents.id'],
                                name=op.f('fk_invitations_invited_by_id_agents'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('account_id', 'email', name=op.f('uq_invitations_account_id_email')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    )
    _reoffer_memberships_of_one_time_logins(invitations)


def _reoffer_memberships_of_one_time_logins(invitations: sa.Table) -> None:
    """Runs across every account at once, on tables frozen as of this revision: a migration
    cannot use db/tenancy.py (it scopes the app's current models to one caller's account), so
    each write names the (agent, account) pair of the membership it undoes."""
    connection = op.get_bind()
    agents = sa.table('agents', sa.column('id'), sa.column('email'), sa.column('name'),
                      sa.column('must_change_password'))
    memberships = sa.table('memberships', sa.column('id'), sa.column('account_id'),
                           sa.column('agent_id'), sa.column('role'))
    rows = connection.execute(
        sa.select(memberships.c.id, memberships.c.account_id, memberships.c.role,
                  memberships.c.agent_id, agents.c.email, agents.c.name)
        .join(agents, agents.c.id == memberships.c.agent_id)
        .where(agents.c.must_change_password == sa.true())
        .order_by(memberships.c.agent_id, memberships.c.id)).all()
    sessions = sa.table('login_sessions', sa.column('agent_id'), sa.column('account_id'))
    tokens = sa.table('api_tokens', sa.column('agent_id'), sa.column('account_id'),
                      sa.column('revoked_at'))
    now = datetime.now(UTC)
    seen: set[int] = set()
    for row in rows:
        if row.agent_id not in seen:  # the first account: the one whose invite made the login
            seen.add(row.agent_id)
            continue
        connection.execute(invitations.insert().values(
            account_id=row.account_id, email=row.email, name=row.name, role=row.role,
            token_hash=secrets.token_hex(32),  # no one holds a token for it: re-invite
            created_at=now, expires_at=now + timedelta(days=7)))
        connection.execute(memberships.delete().where(memberships.c.id == row.id))
        connection.execute(sessions.delete().where(sessions.c.agent_id == row.agent_id,
                                                   sessions.c.account_id == row.account_id))
        connection.execute(tokens.update().where(
            tokens.c.agent_id == row.agent_id, tokens.c.account_id == row.account_id,
            tokens.c.revoked_at.is_(None)).values(revoked_at=now))


def downgrade() -> None:
    op.drop_table('invitations')
