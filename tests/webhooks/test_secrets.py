"""SendGrid's Inbound Parse secret (in the URL, or as a basic-auth password) proves a request
once: it is never stored with the raw event nor written to the access log, and handling or
replaying the stored event does not need it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from clientcontact.channels.base import ChannelKind
from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api
from tests.signing import load_fixture
from tests.test_cli import run, serving
from tests.webhooks.providers import INBOUND_EMAIL, events, incoming, post, provider_inbox
from tests.webhooks.test_failures import replay

SECRET = "s3cret-Zq81-in-url"


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
    real_install = {"EMAIL_SERVICE": "sendgrid", "SENDGRID_API_KEY": "SG.x",
                    "SENDGRID_INBOUND_SECRET": SECRET, "FROM_EMAIL": INBOUND_EMAIL}
    made = run(tmp_path, "create-admin", "--email", "ops@acme.test", "--name", "Ops",
               "--password", "a-long-admin-password", **real_install)
    assert made.returncode == 0, made.stderr
    with serving(tmp_path, RUN_WORKER_IN_PROCESS="false", **real_install) as (base, log):
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

