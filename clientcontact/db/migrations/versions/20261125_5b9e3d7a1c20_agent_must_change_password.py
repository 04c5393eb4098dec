"""agents.must_change_password: an invite's one-time password is changed before work

Revision ID: 5b9e3d7a1c20
Revises: 8185fce310b3
Create Date: 2026-11-25 05:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5b9e3d7a1c20'
down_revision = '8185fce310b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('must_change_password')
