"""Delivery: how soon a reply reaches the provider, and how many replies a second workers send,
beside a Celery setup (Redis broker) sending through the same Twilio SDK to the same fake,
measured in the same run.

    .venv/bin/python -m bench.delivery latency --engine sqlite       # embedded: worker in `serve`
    .venv/bin/python -m bench.delivery latency --engine postgresql   # `clientcontact worker` x 4
    .venv/bin/python -m bench.delivery throughput                    # celery:4 postgresql:4, 50 ms

Latency: an agent's reply is POSTed to a running `clientcontact serve`, one at a time with idle
workers between; each sample runs from the start of the POST to the Twilio fake receiving the
send. The Celery baseline's sample runs from `apply_async` to the fake receiving its send.

Throughput: messages are seeded with their jobs not yet due, the workers are started and idle,
then every job becomes due at once (one UPDATE and a NOTIFY); the clock stops at the last
`sent_at`. The Celery baseline's tasks are published to a queue no worker consumes yet; the
clock starts when the workers are told to consume it and stops when the fake has answered the
last send. `sdk:N` is the SDK alone from N processes, one send at a time each.
Needs PostgreSQL (BENCH_POSTGRES_URL, default the local server with trust auth) and, for the
Celery runs, Redis (BENCH_CELERY_BROKER, default database 13 of the local server).
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Role
from clientcontact.channels.base import ChannelKind, DeliveryStatus
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
from clientcontact.jobs.wakeups import wake_workers_after_commit
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings
from tests.fakes.scripted import ReceivedRequest, Reply
from tests.fakes.twilio_api import FakeTwilio

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CELERY_BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/13")
INBOX_NUMBER = "+12127365000"
CONVERSATIONS = 50
TEXT = "Update {n}: your order is on its way."
STATUS_CALLBACK = "http://127.0.0.1:8000/api/webhooks/sms/twilio/status"


class DistantTwilio(FakeTwilio):
    """The Twilio fake, answering every request after `latency` seconds, and noting when
    each request arrived (`arrivals`, wall-clock seconds, in order)."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency
        self.arrivals: list[float] = []
        self.arrived = threading.Condition()

    def answer(self, request: ReceivedRequest) -> Reply:
        reply = super().answer(request)
        with self.arrived:
            self.arrivals.append(time.time())
            self.arrived.notify_all()
        return Reply(reply.status, reply.body, reply.headers, self.latency)

    def wait_for(self, count: int, within: float = 600.0) -> float:
        """When the `count`-th request arrived."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.arrivals) >= count, within):
                raise TimeoutError(f"only {len(self.arrivals)} of {count} sends arrived")
            return self.arrivals[count - 1]

    def clear(self) -> None:
        with self.arrived:
            self.arrivals.clear()
            self.requests.clear()
            self.replies.clear()

    def env(self) -> dict[str, str]:
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_PHONE_NUMBER": INBOX_NUMBER, "TWILIO_API_BASE_URL": self.url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    latency = modes.add_parser("latency", help="POST of a reply → the provider, idle workers")
    latency.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    latency.add_argument("--samples", type=int, default=150)
    latency.add_argument("--workers", type=int, default=4,
                         help="`clientcontact worker` processes (PostgreSQL) and Celery workers")
    throughput = modes.add_parser("throughput", help="queued → sent per second")
    throughput.add_argument("--messages", type=int, default=2000)
    throughput.add_argument("--runs", nargs="+", default=["celery:4", "postgresql:4"])
    throughput.add_argument("--latency-ms", type=float, default=50.0,
                            help="the fake answers after this long, like a provider far away")
    for mode in (latency, throughput):
        mode.add_argument("--celery-pool", choices=("threads", "prefork"), default="threads",
                          help="threads: like our workers, N processes x WORKER_CONCURRENCY")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    if args.mode == "latency":
        latency_bench(args.engine, args.samples, args.workers, args.celery_pool)
    else:
        throughput_bench(args.runs, args.messages, args.latency_ms / 1000, args.celery_pool)


# Latency -------------------------------------------------------------------------------------

def latency_bench(engine: str, samples: int, workers: int, pool: str) -> None:
    fake = DistantTwilio(0.0).start()
    try:
        with celery_workers(fake, workers, pool, queue=CELERY_QUEUE) as celery:
            baseline = _latencies(fake, samples, lambda n: _publish(celery, n))
        print(_percentiles(f"celery:{workers} ({pool}), apply_async → fake", baseline))
        with serving(fake, engine, workers) as post:
            ours, api = [], []
            for sample in _latencies_with_api(fake, samples, post):
                ours.append(sample[0])
                api.append(sample[1])
        label = "sqlite, worker in serve" if engine == "sqlite" else f"postgresql:{workers}"
        print(_percentiles("API alone: POST → its 201", api))
        print(_percentiles(f"{label}, POST → fake", ours, baseline))
    finally:
        fake.stop()


def _latencies(fake: DistantTwilio, samples: int, send: Callable[[int], None]) -> list[float]:
    return [latency for latency, _ in _latencies_with_api(fake, samples, send)]


def _latencies_with_api(fake: DistantTwilio, samples: int,
                        send: Callable[[int], object]) -> Iterator[tuple[float, float]]:
    """(start → the fake received it, start → `send` returned) per sample, in ms, one at a
    time, with the workers idle (0.1 to 0.3 s of nothing) before each."""
    fake.clear()
    for n in range(samples):
        time.sleep(random.uniform(0.1, 0.3))
        started = time.time()
        send(n)
        returned = time.time()
        arrived = fake.wait_for(n + 1, within=60)
        yield 1000 * (arrived - started), 1000 * (returned - started)


def _percentiles(label: str, latencies: list[float], baseline: list[float] | None = None) -> str:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p99 = statistics.median(latencies), cuts[98]
    line = f"{label:>44}: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms ({len(latencies)} samples)"
    if baseline:
        base = statistics.quantiles(baseline, n=100, method="inclusive")
        line += (f"; {p50 / statistics.median(baseline):.2f} x / {p99 / base[98]:.2f} x "
                 "the Celery baseline's p50 / p99")
    return line


@contextmanager
def serving(fake: DistantTwilio, engine: str, workers: int) -> Iterator[Callable[[int], object]]:
    """`clientcontact serve` (SQLite: with its worker inside; PostgreSQL: beside `workers`
    worker processes), seeded with an agent and a conversation; yields "post reply n"."""
    with _database(engine) as url, tempfile.TemporaryDirectory() as data_dir:
        runtime = _runtime(url, data_dir, fake)
        upgrade(runtime.engine)
        token, conversations = _seed(runtime, messages=0, api_token=True)
        runtime.engine.dispose()
        port = _free_port()
        env = _env(url, data_dir, fake, RUN_WORKER_IN_PROCESS=str(engine == "sqlite").lower())
        server = _start(["serve", "--port", str(port)], env, Path(data_dir, "serve.log"))
        processes = [server] + [_start(["worker"], env, Path(data_dir, f"worker-{n}.log"))
                                for n in range(workers if engine == "postgresql" else 0)]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        try:
            _wait_until(lambda: _answers(client), "the server to answer", processes)
            _wait_until_logged(data_dir, processes[1:], b"worker started")
            time.sleep(1.0)  # every worker has polled once, listens and is idle

            def post(n: int) -> object:
                conversation = conversations[n % len(conversations)]
                response = client.post(f"/api/v1/conversations/{conversation}/messages",
                                       json={"text": TEXT.format(n=n)})
                response.raise_for_status()
                return response

            yield post
        finally:
            client.close()
            _stop(processes)


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/login").status_code == 200
    except httpx.TransportError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Throughput ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    run: str
    messages: int
    seconds: float
    cpu_seconds: float  # of the senders (SDK clients, Celery or our workers) while timed
    server_cpu_seconds: float | None = None  # of the broker (Redis) or database backends

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def throughput_bench(runs: list[str], messages: int, latency: float, pool: str) -> None:
    fake = DistantTwilio(latency).start()
    print(f"{messages} messages per run; the fake answers after {1000 * latency:g} ms",
          flush=True)
    figures: dict[str, Figure] = {}
    try:
        for run in runs:
            kind, _, count = run.partition(":")
            fake.clear()
            if kind == "sdk":
                figure = sdk_run(fake, messages, int(count))
            elif kind == "celery":
                figure = celery_run(fake, messages, int(count), pool)
            else:
                figure = workers_run(fake, kind, int(count), messages)
            figures[run] = figure
            print(report(figure, None), flush=True)
    finally:
        fake.stop()
    for run, figure in figures.items():  # each beside the Celery run of as many workers
        baseline = figures.get(f"celery:{run.partition(':')[2]}")
        if baseline is not None and baseline is not figure:
            print(report(figure, baseline))


def report(figure: Figure, baseline: Figure | None) -> str:
    line = (f"{figure.run:>14}: {figure.per_second:7.0f} msg/s ({figure.seconds:.2f} s), "
            f"{1000 * figure.cpu_seconds / figure.messages:.2f} ms CPU/msg")
    if figure.server_cpu_seconds is not None:
        line += f" + {1000 * figure.server_cpu_seconds / figure.messages:.2f} ms server"
    if baseline is not None and baseline is not figure:
        line += f", {figure.per_second / baseline.per_second:.2f} x {baseline.run}"
    return line


# The SDK alone, from N processes -----------------------------------------------------------

def sdk_run(fake: DistantTwilio, messages: int, processes: int) -> Figure:
    """The clock starts once every client has imported and built its SDK client: on a busy
    machine the start-up of N interpreters takes seconds, which is not sending."""
    share = messages // processes
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    finished = context.Queue()
    clients = [context.Process(target=_sdk_client, args=(fake.env(), share, ready, finished))
               for _ in range(processes)]
    for client in clients:
        client.start()
    ready.wait()
    started = time.time()
    spent = [finished.get() for _ in clients]
    for client in clients:
        client.join()
    return Figure(f"sdk:{processes}", share * processes,
                  max(end for end, _ in spent) - started, sum(cpu for _, cpu in spent))


def _sdk_client(env: dict[str, str], messages: int, ready: multiprocessing.synchronize.Barrier,
                finished: multiprocessing.queues.Queue[tuple[float, float]]) -> None:
    os.environ.update(env)
    from bench.celery_baseline import send_sms  # the task's body, called directly

    send_sms("+12125551000", TEXT.format(n=0), STATUS_CALLBACK)  # builds the client
    ready.wait()
    cpu = time.process_time()
    for n in range(messages):
        send_sms(f"+1212555{1000 + n % CONVERSATIONS}", TEXT.format(n=n), STATUS_CALLBACK)
    finished.put((time.time(), time.process_time() - cpu))


# Celery: N worker processes, the same concurrency each, Redis as the broker ------------------

CELERY_QUEUE = "bench-sends"


@dataclass
class CeleryWorkers:
    processes: list[subprocess.Popen[bytes]]
    app: object  # the Celery app, imported only where Celery runs

    def pids(self) -> list[int]:
        return [pid for p in self.processes for pid in _with_descendants(p.pid)]


@contextmanager
def celery_workers(fake: DistantTwilio, count: int, pool: str, *,
                   queue: str) -> Iterator[CeleryWorkers]:
    """`count` Celery workers of `pool` with WORKER_CONCURRENCY each (4, as ours on
    PostgreSQL), consuming `queue`, ready; the broker's keys of this run are deleted after."""
    from bench.celery_baseline import app

    concurrency = os.environ.get("WORKER_CONCURRENCY", "4")
    env = {**os.environ, **fake.env(), "BENCH_CELERY_BROKER": CELERY_BROKER}
    with tempfile.TemporaryDirectory() as log_dir:
        processes = [
            _start_process([sys.executable, "-m", "celery", "-A", "bench.celery_baseline",
                            "worker", "--pool", pool, "--concurrency", concurrency,
                            "-Q", queue, "-n", f"bench{n}@%h", "--loglevel", "INFO",
                            "--without-gossip", "--without-mingle", "--without-heartbeat"],
                           env, Path(log_dir, f"worker-{n}.log"))
            for n in range(count)]
        try:
            _wait_until_logged(log_dir, processes, b"ready.")
            time.sleep(1.0)
            yield CeleryWorkers(processes, app)
        finally:
            _stop(processes)
            _delete_broker_keys()


def _publish(celery: CeleryWorkers, n: int, queue: str = CELERY_QUEUE) -> None:
    from bench.celery_baseline import send_sms

    send_sms.apply_async((f"+1212555{1000 + n % CONVERSATIONS}", TEXT.format(n=n),
                          STATUS_CALLBACK), queue=queue)


def celery_run(fake: DistantTwilio, messages: int, count: int, pool: str) -> Figure:
    """Tasks wait in a queue the workers do not consume yet; the clock starts when every
    worker is told to consume it (as our jobs all become due at once)."""
    held = f"{CELERY_QUEUE}-held-{uuid.uuid4().hex[:6]}"
    with celery_workers(fake, count, pool, queue="bench-idle") as celery:
        for n in range(messages):
            _publish(celery, n, held)
        broker = _redis_pid()
        cpu, server_cpu = _cpu_seconds(celery.pids()), _cpu_seconds([broker])
        started = time.time()
        celery.app.control.add_consumer(held, reply=False)  # type: ignore[attr-defined]
        last = fake.wait_for(messages) + fake.latency
        cpu = _cpu_seconds(celery.pids()) - cpu
        server_cpu = _cpu_seconds([broker]) - server_cpu
    return Figure(f"celery:{count}", messages, last - started, cpu, server_cpu)


def _redis_pid() -> int:
    return int(redis.Redis.from_url(CELERY_BROKER).info("server")["process_id"])


def _delete_broker_keys() -> None:
    """Only this bench's keys (its prefix in its own database), whatever else Redis holds."""
    client = redis.Redis.from_url(CELERY_BROKER)
    keys = list(client.scan_iter("cc_bench_*")) + list(client.scan_iter("_kombu.binding.*"))
    if keys:
        client.delete(*keys)


# Our pipeline: seeded queue, `clientcontact worker` processes ---------------------------------

def workers_run(fake: DistantTwilio, database: str, workers: int, messages: int) -> Figure:
    with _database(database) as url, tempfile.TemporaryDirectory() as data_dir:
        # SQLite wakes only a worker inside the process that enqueues: this one polls often.
        extra = {"WORKER_POLL_SECONDS": "0.1"} if database == "sqlite" else {}
        env = _env(url, data_dir, fake, **extra)
        runtime = _runtime(url, data_dir, fake)
        upgrade(runtime.engine)
        _seed(runtime, messages)
        processes = [_start(["worker"], env, Path(data_dir, f"worker-{n}.log"))
                     for n in range(workers)]
        try:
            _wait_until_logged(data_dir, processes, b"worker started")
            time.sleep(1.0)  # every worker has polled once and is idle
            backends = _backend_pids(runtime)
            cpu, server_cpu = _cpu_seconds([p.pid for p in processes]), _cpu_seconds(backends)
            with unit_of_work(runtime.factory) as session:
                due = utcnow()
                session.execute(update(Job).values(run_after=due))
                wake_workers_after_commit(session)
            last = _wait_until_sent(runtime, messages)
            cpu = _cpu_seconds([p.pid for p in processes]) - cpu
            server_cpu = _cpu_seconds(backends) - server_cpu if backends else None
        finally:
            _stop(processes)
            runtime.engine.dispose()
        return Figure(f"{database}:{workers}", messages, (last - due).total_seconds(), cpu,
                      server_cpu)


def _backend_pids(runtime: Runtime) -> list[int]:
    """The PostgreSQL backends serving the workers (the server's share of the work)."""
    if runtime.engine.dialect.name != "postgresql":
        return []
    with runtime.engine.connect() as connection:
        return list(connection.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")))


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


# Shared: settings, seeding, processes, databases ---------------------------------------------

def _env(url: str, data_dir: str, fake: DistantTwilio, **extra: str) -> dict[str, str]:
    return {**os.environ, **fake.env(), "DATABASE_URL": url, "DATA_DIR": data_dir,
            "SECRET_KEY": "bench-secret", "EMAIL_SERVICE": "mock", "SMS_SERVICE": "twilio",
            "SEED_DEMO": "false", "RUN_WORKER_IN_PROCESS": "false", **extra}


def _runtime(url: str, data_dir: str, fake: DistantTwilio) -> Runtime:
    return build_runtime(Settings(
        _env_file=None, database_url=url, data_dir=Path(data_dir), secret_key="bench-secret",
        sms_service="twilio", twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token, twilio_phone_number=INBOX_NUMBER,
        twilio_api_base_url=fake.url, run_worker_in_process=False, seed_demo=False))


def _seed(runtime: Runtime, messages: int, *,
          api_token: bool = False) -> tuple[str | None, list[int]]:
    """An agent, SMS conversations, and `messages` queued replies whose jobs are due only
    tomorrow; the agent's API token when asked, and the conversations' ids."""
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Acme")
        agent = accounts.create_agent(session, email="alice@acme.test", name="Alice",
                                      password="bench-password")
        accounts.add_member(session, account, agent, Role.ADMIN)
        actor = Actor(account_id=account.id, agent_id=agent.id, role=Role.ADMIN.value)
        token = accounts.create_api_token(session, actor, "bench")[1] if api_token else None
        inbox = next(i for i in ensure_default_inboxes(session, actor, runtime.settings)
                     if i.channel is ChannelKind.SMS)
        conversations = []
        for n in range(CONVERSATIONS):
            contact = create_contact(session, actor, name=f"Customer {n}",
                                     identities=[(IdentityKind.PHONE, f"+1212555{1000 + n}")])
            conversation = open_conversation(session, inbox, contact, subject=None)
            add_incoming(session, conversation, contact,
                         IncomingContent(text="Where is my order?"))
            conversations.append(conversation.id)
        for n in range(messages):
            replies.reply(session, actor, conversations[n % CONVERSATIONS],
                          text=TEXT.format(n=n), store=runtime.store,
                          reply_domain=runtime.settings.reply_domain)
        session.execute(update(Job).values(run_after=utcnow() + timedelta(days=1)))
    return token, conversations


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start_process([sys.executable, "-m", "clientcontact.cli", *command], env, log)


def _start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy
        return subprocess.Popen(argv, env=env, cwd=log.parent, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_logged(directory: str, processes: list[subprocess.Popen[bytes]],
                       line: bytes) -> None:
    """Every process (logging to `worker-<n>.log`) has imported and says so: the start-up
    of N interpreters on a busy machine takes seconds, which is not delivering."""
    logs = [Path(directory, f"worker-{n}.log") for n in range(len(processes))]
    _wait_until(lambda: all(line in log.read_bytes() for log in logs),
                f"{len(processes)} processes to log {line!r}", processes)


def _wait_until(condition: Callable[[], bool], what: str,
                processes: list[subprocess.Popen[bytes]], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError(f"waited in vain for {what}; see the logs")
        time.sleep(0.05)


def _with_descendants(pid: int) -> list[int]:
    """The process and its children (a prefork pool's), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(current := todo.pop())
        todo.extend(children.get(current, []))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have used so far (Linux): a figure that other
    work on a shared machine disturbs far less than the wall clock."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended since
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


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
