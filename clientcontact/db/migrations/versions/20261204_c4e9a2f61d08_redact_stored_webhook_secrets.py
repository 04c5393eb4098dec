"""inbound_events: secrets stored before redaction are redacted

Webhooks stored before SendGrid's Inbound Parse secret was redacted kept it in clear text in
their URL (`?secret=`) or Authorization header. Handling and replay never need it.

Revision ID: c4e9a2f61d08
Revises: c4f1a9e2d7b3
Create Date: 2026-12-04 15:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clientcontact.webhooks.redaction import SECRET_HEADERS, redact_headers, redact_url

revision = 'c4e9a2f61d08'
down_revision = 'c4f1a9e2d7b3'
branch_labels = None
depends_on = None

EVENTS = sa.table('inbound_events', sa.column('id', sa.BigInteger), sa.column('url', sa.Text),
                  sa.column('headers', sa.JSON))


def upgrade() -> None:
    connection = op.get_bind()
    headers_text = sa.cast(EVENTS.c.headers, sa.Text)
    suspects = connection.execute(sa.select(EVENTS.c.id, EVENTS.c.url, EVENTS.c.headers).where(
        sa.or_(EVENTS.c.url.like('%?%'),
               *(headers_text.like(f'%"{name}"%') for name in SECRET_HEADERS)))).all()
    for event_id, url, headers in suspects:
        clean_url, clean_headers = redact_url(url), redact_headers(headers or {})
        if (clean_url, clean_headers) != (url, headers):
            connection.execute(sa.update(EVENTS).where(EVENTS.c.id == event_id)
                               .values(url=clean_url, headers=clean_headers))


def downgrade() -> None:
    """Nothing to undo: a redacted secret is gone, as intended."""
