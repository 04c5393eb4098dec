"""SendGrid's Inbound Parse secret (in the URL, or as a basic-auth password) proves a request
once: it is never stored with the raw event nor written to the access log, and handling or
replaying the stored event does not need it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, select, text

from clientcontact.channels.base import ChannelKind
from clientcontact.db.engine import make_engine
from clientcontact.db.migrate import alembic_config, upgrade
from clientcontact.ingest.models import InboundEventRow
from tests.conftest import ENGINES
from tests.harness import Api
from tests.signing import load_fixture
from tests.test_cli import serving
from tests.webhooks.providers import INBOUND_EMAIL, events, incoming, post, provider_inbox
from tests.webhooks.test_failures import replay

SECRET = "s3cret-Zq81-in-url"
BEFORE_REDACTION = "5b9e3d7a1c20"  # the migration before secrets were redacted


def stored_text(event: InboundEventRow) -> str:
    return event.url + json.dumps(event.headers)


def test_the_secret_is_stored_redacted_and_replay_needs_it_not(api: Api) -> None:
    inbox = provider_inbox(api, channel=ChannelKind.EMAIL, provider="sendgrid",
                           address=INBOUND_EMAIL,
                           credentials={"api_key": "SG.x", "inbound_secret": SECRET})
    in_url = load_fixture("sendgrid", "inbound_parse__raw_mime")
    as_password = load_fixture("sendgrid", "inbound_parse__charset_iso8859")
    basic = base64.b64encode(f"sendgrid:{SECRET}".encode()).decode()
    assert post(api, f"{inbox.inbound_path}?secret={SECRET}&v=2", in_url.body,
                in_url.headers).status_code == 200
    assert post(api, inbox.inbound_path, as_password.body,
                {**as_password.headers, "authorization": f"Basic {basic}"}).status_code == 200

    first, second = events(api)
    assert first.url.endswith(f"{inbox.inbound_path}?secret=REDACTED&v=2")
    assert second.headers["authorization"] == "Basic REDACTED"
    assert all(SECRET not in stored_text(e) and basic not in stored_text(e)
               for e in (first, second))
    for event in (first, second):  # handled from the stored rows alone
        code, output = replay(api, "--id", str(event.id))
        assert code == 0, output
    assert len(incoming(api)) == 2


def test_the_access_log_never_shows_the_secret(tmp_path: Path) -> None:
    fixture = load_fixture("sendgrid", "inbound_parse__raw_mime")
    with serving(tmp_path, EMAIL_SERVICE="sendgrid", SENDGRID_API_KEY="SG.x",
                 SENDGRID_INBOUND_SECRET=SECRET, FROM_EMAIL=INBOUND_EMAIL,
                 RUN_WORKER_IN_PROCESS="false") as (base, log):
        answer = httpx.post(f"{base}/api/webhooks/email/sendgrid?secret={SECRET}",
                            content=fixture.body, headers=dict(fixture.headers))
        assert answer.status_code == 200, answer.text
    printed = log.read_text()
    assert "POST /api/webhooks/email/sendgrid?secret=REDACTED HTTP/1.1" in printed
    assert SECRET not in printed
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'clientcontact.db'}")
    with engine.connect() as connection:
        [url] = connection.scalars(select(InboundEventRow.url)).all()
    engine.dispose()
    assert url.endswith("/api/webhooks/email/sendgrid?secret=REDACTED")


@pytest.fixture(params=ENGINES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("postgres_databases")()


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
