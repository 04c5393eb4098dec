"""inbound events

Revision ID: 8185fce310b3
Revises: a3c1e0f7b2d4
Create Date: 2026-11-25 02:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientcontact.db.base


revision = '8185fce310b3'
down_revision = 'a3c1e0f7b2d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('inbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', clientcontact.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', clientcontact.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inbound_events_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inbox_id'], ['inboxes.id'], name=op.f('fk_inbound_events_inbox_id_inboxes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_events')),
    sa.UniqueConstraint('inbox_id', 'endpoint', 'external_id', name=op.f('uq_inbound_events_inbox_id_endpoint_external_id'))
    )
    op.create_index('ix_inbound_events_unhandled', 'inbound_events', ['account_id', 'handled_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbound_events_unhandled', table_name='inbound_events')
    op.drop_table('inbound_events')
