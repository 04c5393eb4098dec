"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
repair what earlier versions stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from clientcontact.db.engine import make_engine
from clientcontact.db.migrate import alembic_config, current_revision, head_revision, upgrade
from clientcontact.db.models import Base
from clientcontact.ingest.models import InboundEventRow

BEFORE_REDACTION = "c4f1a9e2d7b3"  # the migration before webhook secrets were redacted
SECRET = "s3cret-Zq81-in-url"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_databases")()


def test_models_and_migrations_agree(empty_database: str) -> None:
    engine = make_engine(empty_database)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(create_engine(engine.url)).get_table_names()) == tables
    assert {"conversations", "messages", "jobs", "contact_identities"} <= tables


def test_a_login_on_a_one_time_password_keeps_only_the_account_that_invited_it(
        empty_database: str) -> None:
    """Before invitation links, a second account could add a login still on the one-time
    password the first account's admin chose: that membership becomes an invitation again."""
    engine = make_engine(empty_database)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "5b9e3d7a1c20")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for account_id, name in ((1, "Globex"), (2, "Acme")):
            connection.execute(text("INSERT INTO accounts (id, name, created_at) "
                                    "VALUES (:id, :name, :now)"),
                               {"id": account_id, "name": name, "now": now})
        connection.execute(text(
            "INSERT INTO agents (id, email, name, password_hash, is_active, "
            "must_change_password, created_at) VALUES (1, 'x@example.test', 'X', 'h', :t, :t, "
            ":now)"), {"t": True, "now": now})
        for membership_id, account_id, role in ((1, 1, "agent"), (2, 2, "admin")):
            connection.execute(text(
                "INSERT INTO memberships (id, account_id, agent_id, role, created_at) "
                "VALUES (:id, :account, 1, :role, :now)"),
                {"id": membership_id, "account": account_id, "role": role, "now": now})
        connection.execute(text(
            "INSERT INTO login_sessions (account_id, agent_id, token_hash, created_at, "
            "expires_at) VALUES (2, 1, 'session-in-acme', :now, :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO api_tokens (account_id, agent_id, name, token_hash, prefix, "
            "created_at) VALUES (2, 1, 'acme script', 'token-for-acme', 'cct_', :now)"),
            {"now": now})
    upgrade(engine)
    with engine.connect() as connection:
        memberships = connection.execute(text("SELECT account_id FROM memberships")).all()
        invitations = connection.execute(text(
            "SELECT account_id, email, role FROM invitations")).all()
        sessions = connection.execute(text("SELECT count(*) FROM login_sessions")).scalar()
        revoked = connection.execute(text("SELECT revoked_at FROM api_tokens")).scalar()
    assert [tuple(m) for m in memberships] == [(1,)]
    assert [tuple(i) for i in invitations] == [(2, "x@example.test", "admin")]
    assert sessions == 0 and revoked is not None
    engine.dispose()


def test_secrets_stored_before_the_upgrade_are_redacted_by_it(empty_database: str) -> None:
    engine = make_engine(empty_database)
    config = alembic_config(empty_database)
    with engine.begin() as connection:  # an installation from before redaction
        config.attributes["connection"] = connection
        command.upgrade(config, BEFORE_REDACTION)
        now = datetime.now(UTC)
        connection.execute(text("INSERT INTO accounts (id, name, created_at) "
                                "VALUES (1, 'Acme', :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO inboxes (id, account_id, name, channel, provider, address, public_key, "
            "options, created_at) VALUES (1, 1, 'Mail', 'email', 'sendgrid', "
            "'help@acme.test', 'k1', '{}', :now)"), {"now": now})
        old = sa.table("inbound_events", *(sa.column(name) for name in (
            "account_id", "inbox_id", "endpoint", "external_id", "method", "url", "body",
            "received_at", "attempts")), sa.column("headers", sa.JSON))
        connection.execute(sa.insert(old), [
            {"account_id": 1, "inbox_id": 1, "endpoint": "inbound", "external_id": key,
             "method": "POST", "url": url, "headers": headers, "body": b"x",
             "received_at": now, "attempts": 0} for key, url, headers in (
                ("in-url", f"https://inbox.example.com/api/webhooks/email/sendgrid"
                           f"?secret={SECRET}", {"content-type": "multipart/form-data"}),
                ("as-password", "https://inbox.example.com/api/webhooks/email/sendgrid",
                 {"authorization": "Basic c2VuZGdyaWQ6czNjcmV0"}),
                ("twilio", "https://inbox.example.com/api/webhooks/sms/twilio",
                 {"x-twilio-signature": "kept"}))])
    upgrade(engine)
    with engine.connect() as connection:
        rows = {key: (url, headers) for key, url, headers in connection.execute(
            sa.select(InboundEventRow.external_id, InboundEventRow.url,
                      InboundEventRow.headers))}
    engine.dispose()
    assert rows["in-url"][0].endswith("/sendgrid?secret=REDACTED")
    assert rows["as-password"][1] == {"authorization": "Basic REDACTED"}
    assert rows["twilio"][1] == {"x-twilio-signature": "kept"}
