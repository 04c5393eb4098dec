"""Inbound webhooks: signed Twilio SMS webhooks on loopback with 32 concurrent connections
(sent by wrk, the C load generator, with bench/inbound.lua: `apt-get install wrk`), through
the real `clientcontact serve` alone (a: accepted requests/s, p50/p99), then again on a fresh
database with `clientcontact worker` processes already running, as in production (b: the
end-to-end rate until every message is in its conversation), beside the limit
measured in the same run: a minimal Starlette app, served by uvicorn the same way, that
only parses the form and inserts one row into a one-table database on the same engine.

    .venv/bin/python -m bench.inbound                          # SQLite
    .venv/bin/python -m bench.inbound --database postgresql    # needs the local PostgreSQL
    .venv/bin/python -m bench.inbound --requests 4000 --skip-corpus

Afterwards the rows are counted: one message per distinct MessageSid (zero lost) and no
MessageSid stored twice (zero duplicated), although some webhooks are sent twice on purpose.
Last, the .eml corpora in ../shared/corpora are parsed and routed into a SQLite database.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from bench.delivery import _database
from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Role
from clientcontact.channels.base import ChannelKind
from clientcontact.conversations.models import Direction, Message
from clientcontact.db.engine import make_engine
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import create_inbox
from clientcontact.ingest.models import InboundEventRow
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings
from tests.signing import twilio_signature

CONNECTIONS = 32
SENDERS = 300
DUPLICATE_EVERY = 20  # one webhook in 20 is sent a second time, as a provider's retry would
AUTH_TOKEN = "bench0123456789abcdef0123456789ab"
ACCOUNT_SID = "AC" + "0" * 32
OUR_NUMBER = "+14155550100"
PATH = "/api/webhooks/sms/twilio"
SECRET = "bench-secret"
REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
WRK_SCRIPT = Path(__file__).with_name("inbound.lua")


@dataclass(frozen=True)
class Load:
    """What wrk measured: every request once, 2xx counted as accepted."""

    label: str
    sent: int
    accepted: int
    seconds: float
    p50_ms: float
    p99_ms: float
    started_at: float  # time.time() just before wrk started
    distinct: int  # distinct MessageSids among them
    statuses: dict[str, int]  # answers by HTTP status, e.g. {"status_200": 3150}

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=3000,
                        help="distinct MessageSids; one in 20 is sent twice on top")
    parser.add_argument("--workers", type=int, default=None,
                        help="`clientcontact worker` processes (default 1 on SQLite, 2 on "
                             "PostgreSQL)")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--serve-limit", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_limit:
        return serve_limit(args.serve_limit, args.port)
    wrk_command()  # missing: say so now, not after the limit's run
    workers = args.workers or (1 if args.database == "sqlite" else 2)
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.database}; "
          f"{args.requests} distinct MessageSids + {args.requests // DUPLICATE_EVERY} sent twice, "
          f"{CONNECTIONS} connections; {workers} worker(s)", flush=True)
    bodies = webhook_bodies(args.requests)
    limit, limit_rows = limit_run(args.database, bodies)
    ours = intake_run(args.database, bodies)
    with_workers, end_to_end, rows = end_to_end_run(args.database, bodies, workers)
    print()
    print(table(args.database, workers, limit, ours, with_workers, end_to_end))
    print()
    distinct = args.requests
    for label, (stored, unique) in (("limit app", limit_rows), ("clientcontact", rows)):
        print(f"{label}: {stored} rows for {distinct} distinct MessageSids sent: "
              f"{distinct - unique} lost, {stored - unique} duplicated")
    if not args.skip_corpus:
        print()
        print(corpus_table())


# The load: signed Twilio SMS webhooks ----------------------------------------------------------

def webhook_bodies(distinct: int) -> list[bytes]:
    """Form bodies as Twilio sends them, `distinct` MessageSids from SENDERS numbers, every
    DUPLICATE_EVERY-th sent again later, in a shuffled (seeded) order."""
    rng = random.Random(42)
    bodies = []
    for n in range(distinct):
        sender = f"+1201555{2000 + n % SENDERS:04d}"
        bodies.append(urlencode({
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": f"SM{n:032x}",
            "NumMedia": "0", "ToCity": "", "FromZip": "", "SmsSid": f"SM{n:032x}",
            "FromState": "NY", "SmsStatus": "received", "FromCity": "", "Body":
            f"Hello, this is message {n}: where is my order?", "FromCountry": "US",
            "To": OUR_NUMBER, "MessagingServiceSid": "", "ToZip": "", "NumSegments": "1",
            "MessageSid": f"SM{n:032x}", "AccountSid": ACCOUNT_SID, "From": sender,
            "ApiVersion": "2010-04-01"}).encode())
    bodies += bodies[::DUPLICATE_EVERY]
    rng.shuffle(bodies)
    return bodies


def wrk_command() -> str:
    """The wrk binary; the bench installs nothing itself."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench.inbound needs wrk, the C load generator: apt-get install wrk")
    return wrk


def write_requests(path: Path, bodies: list[bytes], signed_url: str) -> None:
    """One request a line for bench/inbound.lua: its X-Twilio-Signature, a space, the body.
    Signed here, before the clock starts."""
    with path.open("w") as out:
        for body in bodies:
            out.write(f"{twilio_signature(signed_url, body, AUTH_TOKEN)} {body.decode()}\n")


def fire(label: str, url: str, bodies: list[bytes], signed_url: str, directory: str) -> Load:
    """Send every body once, in order, over CONNECTIONS connections with wrk (one thread: the
    generator needs a few percent of a core, leaving the machine to the app measured)."""
    requests = Path(directory, "requests.txt")
    write_requests(requests, bodies, signed_url)
    httpx.get(url.rsplit("/api/", 1)[0] + "/healthz")  # the app answers before the clock starts
    started_at = time.time()
    run = subprocess.run(
        [wrk_command(), "-t1", f"-c{CONNECTIONS}", "-d300s", "--timeout", "60s",
         "-s", str(WRK_SCRIPT), url, "--", str(requests)],
        capture_output=True, text=True, check=True)
    result = _wrk_result(run.stdout)
    load = Load(label, len(bodies), result.get("status_200", 0), result["duration_us"] / 1e6,
                result["p50_us"] / 1000, result["p99_us"] / 1000, started_at, len(set(bodies)),
                {key: count for key, count in result.items() if key.startswith("status_")})
    errors = {key: result[key] for key in ("extra", "connect_errors", "read_errors",
                                           "write_errors", "timeouts") if result[key]}
    print(f"{label}: {load.accepted} of {len(bodies)} accepted in {load.seconds:.2f} s; "
          f"answers {load.statuses}" + (f"; wrk errors {errors}" if errors else ""), flush=True)
    return load


def _wrk_result(output: str) -> dict[str, int]:
    """The `wrk-result key=value …` line bench/inbound.lua prints when the run is done."""
    for line in output.splitlines():
        if line.startswith("wrk-result "):
            return {key: int(value) for key, value in
                    (field.split("=", 1) for field in line.split()[1:])}
    raise RuntimeError(f"wrk printed no result line:\n{output}")


# The limit: parse the form, insert one row --------------------------------------------------

LIMIT_METADATA = MetaData()
LIMIT_TABLE = Table(
    "sms", LIMIT_METADATA,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(64), unique=True, nullable=False),
    Column("sender", String(64), nullable=False),
    Column("body", Text, nullable=False),
)


def limit_app(database_url: str):
    """A Starlette app with the one route: parse the form, insert a row, answer empty TwiML.
    A MessageSid already stored is answered the same and inserts nothing."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    engine = make_engine(database_url)

    def store(form: dict[str, str]) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(insert(LIMIT_TABLE).values(
                    message_sid=form["MessageSid"], sender=form["From"], body=form["Body"]))
        except IntegrityError:
            pass

    async def twilio(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        await run_in_threadpool(store, form)
        return Response(b'<?xml version="1.0" encoding="UTF-8"?><Response/>',
                        media_type="text/xml")

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(routes=[Route(PATH, twilio, methods=["POST"]),
                             Route("/healthz", healthz)])


def serve_limit(database_url: str, port: int) -> None:
    """Served as `clientcontact serve` serves the app: uvicorn.run, INFO log (access lines)."""
    import uvicorn

    uvicorn.run(limit_app(database_url), host="127.0.0.1", port=port, log_level="info",
                timeout_graceful_shutdown=3)


def limit_run(database: str, bodies: list[bytes]) -> tuple[Load, tuple[int, int]]:
    with _database(database) as url, tempfile.TemporaryDirectory() as directory:
        engine = make_engine(url)
        LIMIT_METADATA.create_all(engine)
        port = free_port()
        with process([sys.executable, "-m", "bench.inbound", "--serve-limit", url,
                      "--port", str(port)], dict(os.environ), directory, "limit"):
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/healthz")
            load = fire("limit app", base + PATH, bodies, base + PATH, directory)
        with engine.connect() as connection:
            rows = connection.execute(select(func.count(),
                                             func.count(LIMIT_TABLE.c.message_sid.distinct())
                                             ).select_from(LIMIT_TABLE)).one()
        engine.dispose()
    return load, (rows[0], rows[1])


# Ours: `clientcontact serve`, alone (a), then with its workers (b) ---------------------------

@dataclass(frozen=True)
class Served:
    """`clientcontact serve` up on a fresh database with the Twilio inbox the load is for."""

    base: str
    env: dict[str, str]
    data_dir: str
    runtime: Runtime
    inbox_id: int


@contextmanager
def serving(database: str) -> Iterator[Served]:
    with _database(database) as url, tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir, "SECRET_KEY": SECRET,
               "PUBLIC_URL": base, "RUN_WORKER_IN_PROCESS": "false", "EMAIL_SERVICE": "mock",
               "SMS_SERVICE": "mock", "WORKER_POLL_SECONDS": "0.1", "SEED_DEMO": "false"}
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir),
                            secret_key=SECRET, public_url=base, run_worker_in_process=False)
        runtime = build_runtime(settings)
        upgrade(runtime.engine)
        inbox_id = seed_twilio_inbox(runtime)
        try:
            with process([sys.executable, "-m", "clientcontact.cli", "serve", "--port",
                          str(port)], env, data_dir, "serve"):
                wait_for(base + "/healthz")
                yield Served(base, env, data_dir, runtime, inbox_id)
        finally:
            runtime.engine.dispose()


def intake_run(database: str, bodies: list[bytes]) -> Load:
    """(a): `serve` alone takes the load; nothing handles it yet."""
    with serving(database) as served:
        return fire("clientcontact serve", served.base + PATH, bodies, served.base + PATH,
                    served.data_dir)


def end_to_end_run(database: str, bodies: list[bytes],
                   workers: int) -> tuple[Load, float, tuple[int, int]]:
    """(b): as in production, the workers are already running when the load begins; the rate
    is distinct messages / (last `handled_at` - first request)."""
    distinct = len(set(bodies))
    with serving(database) as served, ExitStack() as stack:
        for n in range(workers):
            stack.enter_context(process([sys.executable, "-m", "clientcontact.cli", "worker"],
                                        served.env, served.data_dir, f"worker-{n}"))
        time.sleep(1.0)  # imported and polling
        load = fire(f"serve + {workers} worker(s)", served.base + PATH, bodies,
                    served.base + PATH, served.data_dir)
        last = wait_until_handled(served.runtime, distinct)
        for n in range(workers):  # why an attempt failed: the worker logs it
            lines = Path(served.data_dir, f"worker-{n}.log").read_text().splitlines()
            for line in [line for line in lines if "Error:" in line][:5]:
                print(f"  worker-{n}: {line[:300]}")
        with unit_of_work(served.runtime.factory) as session:
            stored, unique = session.execute(
                select(func.count(), func.count(Message.external_id.distinct()))
                .where(Message.inbox_id == served.inbox_id,
                       Message.direction == Direction.IN)).one()
    seconds = last - load.started_at
    print(f"{workers} worker(s): {distinct} messages in their conversations {seconds:.2f} s "
          f"after the first request", flush=True)
    return load, distinct / seconds, (stored, unique)


def seed_twilio_inbox(runtime) -> int:
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Acme")
        agent = accounts.create_agent(session, email="alice@acme.test", name="Alice",
                                      password="bench-password")
        accounts.add_member(session, account, agent, Role.ADMIN)
        actor = Actor(account_id=account.id, agent_id=agent.id, role=Role.ADMIN.value)
        inbox = create_inbox(session, actor, name="SMS", channel=ChannelKind.SMS,
                             provider="twilio", address=OUR_NUMBER,
                             credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
                             box=runtime.adapters.box)
        session.flush()
        return inbox.id


def wait_until_handled(runtime, events: int, within: float = 600.0) -> float:
    """time.time() of the last `handled_at`, once every event is handled. A failed attempt is
    retried by the worker after its backoff (2.5-5 s); the failures are printed afterwards."""
    deadline = time.monotonic() + within
    handled = 0
    while time.monotonic() < deadline:
        with unit_of_work(runtime.factory) as session:
            handled, last = session.execute(
                select(func.count(InboundEventRow.handled_at),
                       func.max(InboundEventRow.handled_at))).one()
        if handled >= events:
            break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"only {handled} of {events} events handled within {within:g} s")
    with unit_of_work(runtime.factory) as session:
        retried = session.execute(
            select(InboundEventRow.id, InboundEventRow.attempts, InboundEventRow.note)
            .where(InboundEventRow.attempts > 1)).all()
    for event_id, attempts, note in retried:
        print(f"  event {event_id} handled at attempt {attempts} ({note})")
    print(f"  {len(retried)} of {events} events needed more than one attempt", flush=True)
    return _timestamp(last)


def _timestamp(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


# Processes ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def process(command: list[str], env: dict[str, str], directory: str, name: str):
    with Path(directory, f"{name}.log").open("wb") as log:
        child = subprocess.Popen(command, env={**env, "PYTHONPATH": str(REPO)}, cwd=directory,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.returncode not in (0, -signal.SIGTERM):
            print(Path(directory, f"{name}.log").read_text()[-3000:], file=sys.stderr)


def wait_for(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {within:g} s")


# The .eml corpora: parse, and parse + route -------------------------------------------------

def corpus_table() -> str:
    from clientcontact.channels.email_mime import inbound_message_from_mime
    from clientcontact.errors import ClientContactError
    from clientcontact.ingest.routing import route_message

    files = sorted([*CORPORA.glob("chatwoot/**/*.eml"), *CORPORA.glob("mikel-mail/**/*.eml")])
    raws = [f.read_bytes() for f in files]
    rounds = 5
    began = time.perf_counter()
    for _ in range(rounds):
        ids = {inbound_message_from_mime(raw).external_id for raw in raws}
    parse_rate = rounds * len(raws) / (time.perf_counter() - began)

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{data_dir}/corpus.db",
                            data_dir=Path(data_dir), secret_key=SECRET,
                            run_worker_in_process=False)
        runtime = build_runtime(settings)
        upgrade(runtime.engine)
        with unit_of_work(runtime.factory) as session:
            account = accounts.create_account(session, "Acme")
            agent = accounts.create_agent(session, email="alice@acme.test", name="Alice",
                                          password="bench-password")
            accounts.add_member(session, account, agent, Role.ADMIN)
            actor = Actor(account_id=account.id, agent_id=agent.id, role=Role.ADMIN.value)
            inbox = create_inbox(session, actor, name="Support", channel=ChannelKind.EMAIL,
                                 provider="mock", address="support@acme.test")
            session.flush()
            inbox_id = inbox.id
        refused = 0
        began = time.perf_counter()
        for raw in raws:
            try:
                with unit_of_work(runtime.factory) as session:
                    event = inbound_message_from_mime(raw, recipient="support@acme.test")
                    route_message(session, session.get(type(inbox), inbox_id), event,
                                  settings=settings, store=runtime.store)
            except ClientContactError:
                refused += 1
        route_seconds = time.perf_counter() - began
        with unit_of_work(runtime.factory) as session:
            stored = session.scalar(select(func.count()).select_from(Message))
        runtime.engine.dispose()
    route_rate = len(raws) / route_seconds
    return "\n".join([
        f"corpora: {len(raws)} .eml files (chatwoot + mikel-mail), {len(ids)} distinct "
        f"Message-IDs; {stored} messages stored, {refused} refused",
        "",
        "| corpus case | messages/s | ratio |",
        "|---|---:|---:|",
        f"| parse only (`inbound_message_from_mime`, {rounds} rounds) | {parse_rate:.0f} | |",
        f"| parse + route into SQLite (one transaction each) | {route_rate:.0f} | "
        f"{route_rate / parse_rate:.2f} x parse only |",
    ])


def table(database: str, workers: int, limit: Load, ours: Load, with_workers: Load,
          end_to_end: float) -> str:
    limit_rate = limit.distinct / limit.seconds  # its messages are stored when answered
    return "\n".join([
        f"| {database}, {CONNECTIONS} connections | req/s | p50 ms | p99 ms | ratio |",
        "|---|---:|---:|---:|---:|",
        f"| limit: parse + insert one row | {limit.per_second:.0f} | {limit.p50_ms:.1f} | "
        f"{limit.p99_ms:.1f} | |",
        f"| limit, messages stored/s | {limit_rate:.0f} | | | |",
        f"| (a) `clientcontact serve`, accepted | {ours.per_second:.0f} | "
        f"{ours.p50_ms:.1f} | {ours.p99_ms:.1f} | "
        f"**{ours.per_second / limit.per_second:.2f} x limit** |",
        f"| (b) serve with {workers} worker(s) running, accepted | "
        f"{with_workers.per_second:.0f} | {with_workers.p50_ms:.1f} | "
        f"{with_workers.p99_ms:.1f} | {with_workers.per_second / limit.per_second:.2f} x limit |",
        f"| (b) end to end, messages in their conversations/s | {end_to_end:.0f} | | | "
        f"**{end_to_end / limit_rate:.2f} x limit** |",
    ])


if __name__ == "__main__":
    main()
