"""A worker's log says what an operator needs, not what every provider request looked like."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from clientcontact.channels.base import ChannelKind
from tests.builders import customer_writes
from tests.delivery.providers import INBOX_NUMBER
from tests.delivery.test_workers import WORKER, wait_for
from tests.fakes.twilio_api import FakeTwilio
from tests.harness import Api, AppServer, make_personas


def test_a_worker_sending_sms_does_not_log_every_twilio_request(
        postgres_databases: Callable[[], str], twilio_api: FakeTwilio, tmp_path: Path) -> None:
    twilio = {"sms_service": "twilio", "twilio_account_sid": twilio_api.account_sid,
              "twilio_auth_token": twilio_api.auth_token, "twilio_phone_number": INBOX_NUMBER,
              "twilio_api_base_url": twilio_api.url}
    server = AppServer.start(database_url=postgres_databases(), data_dir=tmp_path / "data",
                             **twilio)
    api = Api(server, make_personas(server))
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+12125551234")
    for n in range(3):
        api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                            json={"text": f"Update {n}"}).raise_for_status()
    env = {**os.environ, **{name.upper(): value for name, value in twilio.items()},
           "DATABASE_URL": server.runtime.settings.resolved_database_url,
           "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "test-secret-key"}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(WORKER, cwd=tmp_path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(twilio_api.sent) == 3, within=60, what="three SMS")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        server.stop()

    written = log.read_text()
    assert "worker started" in written
    assert "Twilio API Request" not in written and "Response Headers" not in written
