"""`clientcontact worker` processes on PostgreSQL, as deployed at scale: a worker killed in the
middle of a send, two workers draining a thousand messages between them, and the database
going away under them for a few seconds."""

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
from sqlalchemy.engine import make_url

from clientcontact.channels.base import DeliveryStatus
from clientcontact.conversations import reply as replies
from clientcontact.conversations.models import Message
from tests.builders import customer_writes
from tests.fakes.scripted import ReceivedRequest, Reply
from tests.fakes.sendgrid_api import FakeSendGrid
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import Api, AppServer, make_personas

WORKER = [sys.executable, "-m", "clientcontact.cli", "worker"]
LEASE_SECONDS = 5  # the shortest lease settings allow: a dead worker's job returns quickly
CONCURRENCY = 4  # a PostgreSQL worker's default WORKER_CONCURRENCY


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

    def logged(self, words: str) -> list[int]:
        """How many lines of each worker's log contain `words`."""
        return [sum(words in line for line in log.read_text().splitlines())
                for log in sorted(self.workdir.glob("worker-*.log"))]

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
    yield from _workers(postgres_databases(), FakeSendGrid(), tmp_path)


def _workers(database_url: str, fake: FakeSendGrid, tmp_path: Path) -> Iterator[Workers]:
    fake.start()
    server = AppServer.start(database_url=database_url, data_dir=tmp_path / "data",
                             email_service="sendgrid", sendgrid_api_key=fake.api_key,
                             sendgrid_api_host=fake.url)
    group = Workers(Api(server, make_personas(server)), fake, tmp_path)
    yield group
    group.stop_all()
    server.stop()
    fake.stop()


def queue_replies(api: Api, count: int, *, conversations: int = 20) -> None:
    with api.session() as session:  # the same domain call the reply endpoint makes
        threads = [customer_writes(api, api.alice, address=f"customer{n}@example.org")
                   for n in range(conversations)]
        for n in range(count):
            replies.reply(session, api.alice.actor, threads[n % conversations].conversation_id,
                          text=f"Update {n}", store=api.server.runtime.store,
                          reply_domain=api.settings.reply_domain)


def sent_count(api: Api) -> int:
    with api.session() as session:
        return session.scalar(select(func.count()).where(
            Message.status == DeliveryStatus.SENT)) or 0


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
    queue_replies(api, 1000)

    workers.start()
    workers.start()
    wait_for(lambda: sent_count(api) == 1000, within=100, what="1000 messages to be sent")

    sends = workers.sends_of()
    assert len(sends) == 1000
    assert max(sends.values()) == 1
    with api.session() as session:
        statuses = Counter(session.scalars(select(Message.status).where(
            Message.author_agent_id.is_not(None))))
    assert statuses == {DeliveryStatus.SENT: 1000}


class UnhurriedSendGrid(FakeSendGrid):
    """Takes a twentieth of a second over each send, so a run lasts long enough to cut into."""

    def answer(self, request: ReceivedRequest) -> Reply:
        reply = super().answer(request)
        return Reply(reply.status, reply.body, reply.headers, delay=0.05)


@pytest.fixture
def proxy(postgres_server: str) -> Iterator[TcpProxy]:
    url = make_url(postgres_server)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def workers_behind_proxy(postgres_databases: Callable[[], str], proxy: TcpProxy,
                         loopback_only: None, tmp_path: Path) -> Iterator[Workers]:
    """Workers that reach PostgreSQL through `proxy`; the app and the test reach it directly."""
    database_url = postgres_databases()
    for group in _workers(database_url, UnhurriedSendGrid(), tmp_path):
        group.env["DATABASE_URL"] = make_url(database_url).set(
            host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        group.env["WORKER_CONCURRENCY"] = str(CONCURRENCY)
        yield group


@pytest.mark.parametrize(("lease", "outage"), [(15, 4), (5, 7)],
                         ids=["within-the-lease", "past-the-lease"])
def test_a_database_outage_stops_sends_and_sends_each_reply_once_it_returns(
        workers_behind_proxy: Workers, proxy: TcpProxy, lease: int, outage: float) -> None:
    """PostgreSQL drops away while two workers deliver 300 replies. A worker that cannot
    record what it sent starts no new send: only the sends already in flight reach SendGrid
    during the outage, at most WORKER_CONCURRENCY per worker can be sent twice (the
    documented window), and every reply is sent once the database is back. Within the
    lease, the outcomes in hand are recorded when it returns; past it, they are given up
    and their jobs taken again."""
    workers, api, fake = workers_behind_proxy, workers_behind_proxy.api, workers_behind_proxy.fake
    workers.env["DELIVERY_LEASE_SECONDS"] = str(lease)
    queue_replies(api, 300)
    workers.start()
    workers.start()
    wait_for(lambda: len(fake.sent) >= 60, within=30, what="the workers to be well under way")

    proxy.cut()
    before = len(fake.sent)
    time.sleep(outage)
    during = len(fake.sent) - before
    proxy.restore()

    wait_for(lambda: sent_count(api) == 300, within=40, what="every reply to be sent")
    window = 2 * CONCURRENCY
    assert during <= window, f"{during} sends started while the database was unreachable"
    sends = workers.sends_of()
    assert len(sends) == 300
    twice = sum(1 for count in sends.values() if count > 1)
    assert twice <= window and max(sends.values()) <= 2, sends.most_common(3)
    # A worker waits longer after each failure in a row: no storm of connections and logs.
    assert max(workers.logged("job runner failed")) <= 8
