"""`clientcontact worker` processes on PostgreSQL, as deployed at scale: a worker killed in the
middle of a send, and two workers draining a thousand messages between them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from clientcontact.channels.base import DeliveryStatus
from clientcontact.conversations import reply as replies
from clientcontact.conversations.models import Message
from tests.builders import customer_writes
from tests.fakes.sendgrid_api import FakeSendGrid
from tests.harness import Api, AppServer, make_personas

WORKER = [sys.executable, "-m", "clientcontact.cli", "worker"]
LEASE_SECONDS = 5  # the shortest lease settings allow: a dead worker's job returns quickly


class Workers:
    """Worker processes sharing one PostgreSQL database and one SendGrid fake."""

    def __init__(self, api: Api, fake: FakeSendGrid, workdir: Path) -> None:
        self.api, self.fake, self.workdir = api, fake, workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        settings = api.settings
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_SERVICE")},
            "DATABASE_URL": settings.resolved_database_url, "DATA_DIR": str(settings.data_dir),
            "SECRET_KEY": "test-secret-key", "PUBLIC_URL": settings.public_url,
            "FROM_EMAIL": settings.from_email, "EMAIL_SERVICE": "sendgrid",
            "SENDGRID_API_KEY": fake.api_key, "SENDGRID_API_HOST": fake.url,
            "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS), "WORKER_POLL_SECONDS": "0.1",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def start(self) -> subprocess.Popen[bytes]:
        with (self.workdir / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(WORKER, cwd=self.workdir, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def sends_of(self) -> Counter[str]:
        """How many mail-send requests the fake received per our message id."""
        return Counter(body["custom_args"]["clientcontact_message_id"] for body in self.fake.sent)


def wait_for(condition: Callable[[], Any], *, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {within:g} s for {what}")


@pytest.fixture
def workers(postgres_databases: Callable[[], str], loopback_only: None,
            tmp_path: Path) -> Iterator[Workers]:
    fake = FakeSendGrid().start()
    server = AppServer.start(database_url=postgres_databases(), data_dir=tmp_path / "data",
                             email_service="sendgrid", sendgrid_api_key=fake.api_key,
                             sendgrid_api_host=fake.url)
    group = Workers(Api(server, make_personas(server)), fake, tmp_path)
    yield group
    group.stop_all()
    server.stop()
    fake.stop()


def status_of(api: Api, message_id: int) -> DeliveryStatus | None:
    with api.session() as session:
        return session.scalar(select(Message.status).where(Message.id == message_id))


def test_a_worker_killed_mid_send_is_taken_over_and_the_message_sent(workers: Workers) -> None:
    """The at-least-once window, measured: the first worker handed the message to SendGrid and
    died before recording it, so the second sends it again. SendGrid receives it twice."""
    api = workers.api
    thread = customer_writes(api, api.alice)
    message = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                  json={"text": "Your refund is on its way."}).json()
    workers.fake.queue(202, delay=4.0, **{"X-Message-Id": "answer-never-read"})

    first = workers.start()
    wait_for(lambda: workers.sends_of()[str(message["id"])] == 1, within=30,
             what="the first worker to reach SendGrid")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert status_of(api, message["id"]) is DeliveryStatus.SENDING  # stranded, not lost

    workers.start()
    wait_for(lambda: status_of(api, message["id"]) is DeliveryStatus.SENT,
             within=LEASE_SECONDS + 30, what="the second worker to finish the send")

    assert workers.sends_of()[str(message["id"])] == 2  # the documented duplicate
    sent = api.alice.http.get(f"/api/v1/messages/{message['id']}").json()
    assert sent["external_id"] not in (None, "", "answer-never-read")


def test_two_workers_drain_a_thousand_messages_without_sending_any_twice(
        workers: Workers) -> None:
    api = workers.api
    with api.session() as session:  # the same domain call the reply endpoint makes
        conversations = [customer_writes(api, api.alice, address=f"customer{n}@example.org")
                         for n in range(20)]
        for n in range(1000):
            replies.reply(session, api.alice.actor, conversations[n % 20].conversation_id,
                          text=f"Update {n}", store=api.server.runtime.store,
                          reply_domain=api.settings.reply_domain)

    def sent_count() -> int:
        with api.session() as session:
            return session.scalar(select(func.count()).where(
                Message.status == DeliveryStatus.SENT)) or 0

    workers.start()
    workers.start()
    wait_for(lambda: sent_count() == 1000, within=100, what="1000 messages to be sent")

    sends = workers.sends_of()
    assert len(sends) == 1000
    assert max(sends.values()) == 1
    with api.session() as session:
        statuses = Counter(session.scalars(select(Message.status).where(
            Message.author_agent_id.is_not(None))))
    assert statuses == {DeliveryStatus.SENT: 1000}
