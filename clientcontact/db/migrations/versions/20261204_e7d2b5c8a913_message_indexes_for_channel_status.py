"""indexes for channel status: an inbox's queue, recent failures and last send

Revision ID: e7d2b5c8a913
Revises: 5b9e3d7a1c20
Create Date: 2026-12-04 15:30:00.000000

Without them, every status page read every message each inbox had ever sent.
"""

from __future__ import annotations

from alembic import op

revision = 'e7d2b5c8a913'
down_revision = '5b9e3d7a1c20'
branch_labels = None
depends_on = None

_INDEXES = {
    'ix_messages_inbox_status': ['inbox_id', 'status', 'created_at'],
    'ix_messages_inbox_failed': ['inbox_id', 'failed_at'],
    'ix_messages_inbox_sent': ['inbox_id', 'sent_at'],
}


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)
