"""Delivery throughput: queued → sent per second, through `clientcontact worker` processes to
the SendGrid fake on loopback, beside the same fake driven directly by the SendGrid SDK (the
limit: what the fake and the SDK can do without us).

    .venv/bin/python -m bench.delivery                       # every figure in BENCHMARKS.md
    .venv/bin/python -m bench.delivery --runs postgresql:4 --messages 4000
    .venv/bin/python -m bench.delivery --latency-ms 50     # a provider 50 ms away

A run is `database:workers`; `sdk:N` is the baseline with N client processes. Messages are
seeded with their jobs not yet due, the workers are started and ready, then every job becomes
due at once: the clock runs from that moment to the last `sent_at`. Needs PostgreSQL for the
postgresql runs (BENCH_POSTGRES_URL, default the local server with trust auth).
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sendgrid import SendGridAPIClient
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Role
from clientcontact.channels.base import ChannelKind, DeliveryStatus
from clientcontact.channels.sendgrid.sender import mail_body
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.conversations import reply as replies
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import ensure_default_inboxes
from clientcontact.jobs.models import Job
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings
from tests.fakes.scripted import ReceivedRequest, Reply
from tests.fakes.sendgrid_api import FakeSendGrid

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEFAULT_RUNS = ("sdk:1", "sqlite:1", "postgresql:1", "sdk:4", "postgresql:4")
CONVERSATIONS = 50


class DistantSendGrid(FakeSendGrid):
    """The SendGrid fake, answering every request after `latency` seconds."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def answer(self, request: ReceivedRequest) -> Reply:
        reply = super().answer(request)
        return Reply(reply.status, reply.body, reply.headers, self.latency)


@dataclass(frozen=True)
class Figure:
    run: str
    messages: int
    seconds: float
    peak_rss_mb: float | None = None
    cpu_seconds: float | None = None  # of the senders (SDK clients or workers) while timed

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS))
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the fake answers after this long, like a provider far away")
    args = parser.parse_args()
    fake = DistantSendGrid(args.latency_ms / 1000).start()
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.messages} messages "
          f"per run; fake answers after {args.latency_ms:g} ms")
    figures = {}
    for run in args.runs:
        kind, _, count = run.partition(":")
        figure = (sdk_baseline(fake, args.messages, int(count)) if kind == "sdk"
                  else workers_run(fake, kind, int(count), args.messages))
        figures[run] = figure
        fake.requests.clear()
        fake.replies.clear()
        print(report(figure, figures.get(f"sdk:{count}")), flush=True)
    fake.stop()


def report(figure: Figure, baseline: Figure | None) -> str:
    line = f"{figure.run:>14}: {figure.per_second:7.0f} msg/s ({figure.seconds:.2f} s)"
    if figure.cpu_seconds is not None:
        line += f", {1000 * figure.cpu_seconds / figure.messages:.2f} ms CPU/msg"
    if figure.peak_rss_mb is not None:
        line += f", worker peak RSS {figure.peak_rss_mb:.0f} MB"
    if baseline is not None and baseline is not figure:
        line += f", {figure.per_second / baseline.per_second:.2f} x {baseline.run}"
    return line


# The limit: the SDK alone against the fake, from N processes --------------------------------

def sdk_baseline(fake: FakeSendGrid, messages: int, processes: int) -> Figure:
    """The clock starts once every client has imported and built its SDK client: on a busy
    machine the start-up of N interpreters takes seconds, which is not sending."""
    share = messages // processes
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    finished = context.Queue()
    clients = [context.Process(target=_sdk_client,
                               args=(fake.url, fake.api_key, share, ready, finished))
               for _ in range(processes)]
    for client in clients:
        client.start()
    ready.wait()
    started = time.time()
    spent = [finished.get() for _ in clients]
    for client in clients:
        client.join()
    return Figure(f"sdk:{processes}", share * processes,
                  max(end for end, _ in spent) - started, cpu_seconds=sum(cpu for _, cpu in spent))


def _sdk_client(url: str, api_key: str, messages: int, ready: multiprocessing.synchronize.Barrier,
                finished: multiprocessing.queues.Queue[tuple[float, float]]) -> None:
    """Sends `messages` once every client is ready; puts when it ended and the CPU it spent."""
    client = SendGridAPIClient(api_key=api_key, host=url)
    body = mail_body(_sample_message(), message_id="<bench@acme.test>")
    ready.wait()
    cpu = time.process_time()
    for _ in range(messages):
        client.client.mail.send.post(request_body=body, timeout=15)
    finished.put((time.time(), time.process_time() - cpu))


def _sample_message():  # the shape of a seeded reply, for a same-sized request body
    from clientcontact.channels.base import OutboundMessage

    return OutboundMessage(
        message_id=1, account_id=1, inbox_id=1, channel=ChannelKind.EMAIL,
        to="customer1@example.org", to_name="Customer", from_address="support@acme.test",
        from_name="Acme Support", text="Update 1: your order is on its way.",
        subject="Re: Order", reply_to="reply+token@acme.test",
        email_message_id="<bench@acme.test>", in_reply_to="<c1@mail.example.org>",
        references=("<c1@mail.example.org>",))


# Our pipeline: seeded queue, `clientcontact worker` processes ---------------------------------

def workers_run(fake: FakeSendGrid, database: str, workers: int, messages: int) -> Figure:
    with _database(database) as url, tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir,
               "SECRET_KEY": "bench-secret", "EMAIL_SERVICE": "sendgrid", "SMS_SERVICE": "mock",
               "SENDGRID_API_KEY": fake.api_key, "SENDGRID_API_HOST": fake.url,
               "FROM_EMAIL": "support@acme.test", "WORKER_POLL_SECONDS": "0.1"}
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir),
                            secret_key="bench-secret", email_service="sendgrid",
                            sendgrid_api_key=fake.api_key, sendgrid_api_host=fake.url,
                            from_email="support@acme.test", run_worker_in_process=False)
        runtime = build_runtime(settings)
        upgrade(runtime.engine)
        _seed(runtime, messages)
        processes = [_start_worker(env, data_dir, n) for n in range(workers)]
        try:
            _wait_until_started(data_dir, processes)
            cpu = _cpu_seconds(processes)
            with unit_of_work(runtime.factory) as session:
                due = utcnow()
                session.execute(update(Job).values(run_after=due))
            last = _wait_until_sent(runtime, messages)
            cpu = _cpu_seconds(processes) - cpu
            rss = max(_peak_rss_mb(p.pid) for p in processes)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
            runtime.engine.dispose()
        return Figure(f"{database}:{workers}", messages, (last - due).total_seconds(), rss, cpu)


def _seed(runtime: Runtime, messages: int) -> None:
    """`messages` queued replies over a few conversations, their jobs due only tomorrow."""
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Acme")
        agent = accounts.create_agent(session, email="alice@acme.test", name="Alice",
                                      password="bench-password")
        accounts.add_member(session, account, agent, Role.ADMIN)
        actor = Actor(account_id=account.id, agent_id=agent.id, role=Role.ADMIN.value)
        [inbox, *_] = ensure_default_inboxes(session, actor, runtime.settings)
        conversations = []
        for n in range(CONVERSATIONS):
            contact = create_contact(session, actor, name=f"Customer {n}",
                                     identities=[(IdentityKind.EMAIL, f"c{n}@example.org")])
            conversation = open_conversation(session, inbox, contact, subject="Order")
            add_incoming(session, conversation, contact, IncomingContent(
                text="Where is my order?", subject="Order",
                email_message_id=f"<c{n}@mail.example.org>"))
            conversations.append(conversation.id)
        for n in range(messages):
            replies.reply(session, actor, conversations[n % CONVERSATIONS],
                          text=f"Update {n}: your order is on its way.", store=runtime.store,
                          reply_domain=runtime.settings.reply_domain)
        session.execute(update(Job).values(run_after=utcnow() + timedelta(days=1)))


def _start_worker(env: dict[str, str], data_dir: str, n: int) -> subprocess.Popen[bytes]:
    with Path(data_dir, f"worker-{n}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "clientcontact.cli", "worker"], env=env,
                                cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


def _wait_until_started(data_dir: str, processes: list[subprocess.Popen[bytes]]) -> None:
    """Every worker has imported and says so, and has had time for its first poll: the
    start-up of N interpreters on a busy machine takes seconds, which is not delivering."""
    logs = [Path(data_dir, f"worker-{n}.log") for n in range(len(processes))]
    deadline = time.monotonic() + 120
    while not all(b"worker started" in log.read_bytes() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError("a worker did not start; see its log")
        time.sleep(0.05)
    time.sleep(0.5)


def _wait_until_sent(runtime: Runtime, messages: int, within: float = 600.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with unit_of_work(runtime.factory) as session:
            sent, last = session.execute(
                select(func.count(), func.max(Message.sent_at))
                .where(Message.status == DeliveryStatus.SENT)).one()
        if sent >= messages:
            return last
        time.sleep(0.2)
    raise TimeoutError(f"only {sent} of {messages} sent within {within:g} s")


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """User and system time the processes have used so far (Linux): a figure that other
    work on a shared machine disturbs far less than the wall clock."""
    ticks = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the resident set's high-water mark (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def _database(kind: str) -> Iterator[str]:
    """A fresh database of our own: a SQLite file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    name = f"cc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
