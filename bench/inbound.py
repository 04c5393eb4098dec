"""Inbound webhooks: signed Twilio SMS webhooks on loopback against the real `clientcontact
serve`, beside two limit apps measured in the same run and served exactly like it (FastAPI on
uvicorn with the same options: uvloop, httptools, one process, access log on):

- *bare*: parse the Twilio form (our parser), answer empty TwiML;
- *form+insert*: the same, plus one row inserted and committed (MessageSid unique) on the
  same engine, built with the same `make_engine`.

Saturation is closed-loop: wrk (C, 32 connections, bench/inbound.lua) sends a file of
pre-signed requests once each. The limits and (a) are measured in interleaved 5 s rounds, and
(b) between two runs of the bare app, because on a shared machine the load moves from one run
to the next: each ratio compares runs made side by side. Latency at a fixed offered rate is
open-loop (bench/open_loop.py): requests go out on schedule whatever the answers do, and each
latency counts from its intended send time, so a stall is not hidden by coordinated omission.

    .venv/bin/python -m bench.inbound                          # SQLite
    .venv/bin/python -m bench.inbound --database postgresql    # needs the local PostgreSQL

What is reported, each as a ratio to the limits of the same run:
(a) intake alone (RUN_WORKER_IN_PROCESS=false): saturated req/s and p99, then p50/p99 at half
    that rate, open loop, beside the form+insert app at the same rate;
(b) the embedded default (the in-process worker on, as a newcomer runs it): the intake's req/s
    and p99 while handling runs, and end to end, messages in their conversations/s (last
    `handled_at` - first request); on PostgreSQL also serve + 2 `clientcontact worker`s;
(c) webhook → `message.created` on an agent's open /events stream at 50 msg/s, open loop,
    on the embedded default.
Afterwards the rows are counted: one message per distinct MessageSid (zero lost) and none
stored twice (zero duplicated), although one webhook in 20 is sent twice on purpose.
Last, the .eml corpora in ../shared/corpora are parsed and routed into a SQLite database.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import (
    Column,
    Engine,
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
from clientcontact.channels.twilio.signature import form_params
from clientcontact.cli import UVICORN_OPTIONS
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
SECONDS = 15  # length of the wrk run of (b) (--seconds)
ROUND_SECONDS = 5  # length of each interleaved wrk run of the limits and (a)
MAX_RATE = 8000  # req/s the request file is sized for: wrk never runs out before SECONDS
FIXED_SECONDS = 10.0  # length of each open-loop run
SSE_RATE = 50.0  # msg/s for (c)
AUTH_TOKEN = "bench0123456789abcdef0123456789ab"
ACCOUNT_SID = "AC" + "0" * 32
OUR_NUMBER = "+14155550100"
PATH = "/api/webhooks/sms/twilio"
SECRET = "bench-secret"
AGENT = ("alice@acme.test", "bench-password")
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
    statuses: dict[str, int]  # answers by HTTP status, e.g. {"status_200": 3150}
    answered_sids: frozenset[str]  # surely answered: all sent but the last CONNECTIONS

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds


@dataclass(frozen=True)
class Fixed:
    """What the open-loop generator measured at a fixed offered rate."""

    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    cpu_share: float  # the generator's own CPU over its wall time
    late_ms_p99: float  # how late its sends went out: it kept up if this stays small
    raw: dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=15,
                        help="length of the wrk run of (b)")
    parser.add_argument("--rounds", type=int, default=3,
                        help=f"interleaved {ROUND_SECONDS} s wrk runs of bare, form+insert, (a)")
    parser.add_argument("--workers", type=int, default=2,
                        help="`clientcontact worker` processes beside serve (PostgreSQL only)")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--serve-limit", nargs=2, metavar=("KIND", "DATABASE_URL"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_limit:
        return serve_limit(*args.serve_limit, args.port)
    wrk_command()  # missing: say so now, not after the limit's run
    db = args.database
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {db}; uvicorn "
          f"{version('uvicorn')}, uvloop {version('uvloop')}, httptools {version('httptools')}; "
          f"wrk {CONNECTIONS} connections", flush=True)
    global SECONDS
    SECONDS = args.seconds
    lost: dict[str, tuple[int, int]] = {}
    with ExitStack() as stack:
        bare = stack.enter_context(limit_server("bare", db))
        insert_app = stack.enter_context(limit_server("insert", db))
        alone = stack.enter_context(serving(db, in_process=False))
        rounds: list[dict[str, Load]] = []
        for n in range(args.rounds):  # interleaved: the machine's load moves between runs
            rounds.append({
                "bare": fire(f"round {n + 1} limit: bare", bare.base, fresh(ROUND_SECONDS),
                             bare.directory, ROUND_SECONDS),
                "insert": fire(f"round {n + 1} limit: form+insert", insert_app.base,
                               fresh(ROUND_SECONDS), insert_app.directory, ROUND_SECONDS),
                "alone": fire(f"round {n + 1} (a) serve, worker off", alone, fresh(ROUND_SECONDS),
                              seconds=ROUND_SECONDS)})
        half = statistics.median(r["alone"].per_second for r in rounds) / 2
        at_half = webhook_bodies(int(half * FIXED_SECONDS), first=next(_FIRST),
                                 duplicates=False)
        insert_fixed = fixed_rate("limit: form+insert", insert_app.base, insert_app.directory,
                                  at_half, half)
        alone_fixed = fixed_rate("(a) serve, worker off", alone.base, alone.data_dir, at_half,
                                 half)
        lost["limit form+insert"] = insert_app.lost_and_duplicated(
            [r["insert"] for r in rounds])
        around: dict[str, tuple[Load, Load]] = {}
        with serving(db, in_process=True) as served:  # (b) and (c): the embedded default
            before = fire("limit: bare, before (b)", bare.base, fresh(ROUND_SECONDS),
                          bare.directory, ROUND_SECONDS)
            default, default_e2e, lost["serve (embedded)"] = end_to_end(served, fresh(SECONDS), 0)
            around["default"] = (before, fire("limit: bare, after (b)", bare.base,
                                              fresh(ROUND_SECONDS), bare.directory,
                                              ROUND_SECONDS))
            sse = sse_latency(served)
        separate = None
        if db == "postgresql":
            with serving(db, in_process=False) as served, ExitStack() as workers:
                for n in range(args.workers):
                    workers.enter_context(process([sys.executable, "-m", "clientcontact.cli",
                                                   "worker"], served.env, served.data_dir,
                                                  f"worker-{n}"))
                time.sleep(3.0)  # imported and polling
                before = fire("limit: bare, before (b)", bare.base, fresh(ROUND_SECONDS),
                              bare.directory, ROUND_SECONDS)
                separate = end_to_end(served, fresh(SECONDS), args.workers)
                lost[f"serve + {args.workers} workers"] = separate[2]
                around["separate"] = (before, fire("limit: bare, after (b)", bare.base,
                                                   fresh(ROUND_SECONDS), bare.directory,
                                                   ROUND_SECONDS))
    print()
    print(table(db, rounds, alone_fixed, insert_fixed, default, default_e2e, separate,
                args.workers, sse, around))
    print()
    for label, (missing, duplicated) in lost.items():
        print(f"{label}: {missing} lost, {duplicated} duplicated")
    if not args.skip_corpus:
        print()
        print(corpus_table())


_FIRST = itertools.count(0, 10**6)  # each run's MessageSids are new


def fresh(seconds: int) -> list[bytes]:
    """Enough new webhooks for `seconds` of wrk at MAX_RATE."""
    return webhook_bodies(MAX_RATE * seconds, first=next(_FIRST))


# The load: signed Twilio SMS webhooks ----------------------------------------------------------

def webhook_bodies(distinct: int, *, first: int = 0, duplicates: bool = True) -> list[bytes]:
    """Form bodies as Twilio sends them, `distinct` MessageSids from SENDERS numbers, every
    DUPLICATE_EVERY-th sent again later, in a shuffled (seeded) order."""
    rng = random.Random(42 + first)
    bodies = []
    for n in range(first, first + distinct):
        sender = f"+1201555{2000 + n % SENDERS:04d}"
        bodies.append(urlencode({
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": f"SM{n:032x}",
            "NumMedia": "0", "ToCity": "", "FromZip": "", "SmsSid": f"SM{n:032x}",
            "FromState": "NY", "SmsStatus": "received", "FromCity": "", "Body":
            f"Hello, this is message {n}: where is my order?", "FromCountry": "US",
            "To": OUR_NUMBER, "MessagingServiceSid": "", "ToZip": "", "NumSegments": "1",
            "MessageSid": f"SM{n:032x}", "AccountSid": ACCOUNT_SID, "From": sender,
            "ApiVersion": "2010-04-01"}).encode())
    if duplicates:
        bodies += bodies[::DUPLICATE_EVERY]
        rng.shuffle(bodies)
    return bodies


def sid_of(body: bytes) -> str:
    return body.split(b"&MessageSid=", 1)[1].split(b"&", 1)[0].decode()


def wrk_command() -> str:
    """The wrk binary; the bench installs nothing itself."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench.inbound needs wrk, the C load generator: apt-get install wrk")
    return wrk


def write_requests(path: Path, bodies: list[bytes], signed_url: str) -> None:
    """One request a line: its X-Twilio-Signature, a space, the body. Signed here, before the
    clock starts."""
    with path.open("w") as out:
        for body in bodies:
            out.write(f"{twilio_signature(signed_url, body, AUTH_TOKEN)} {body.decode()}\n")


def fire(label: str, target: Served | str, bodies: list[bytes],
         directory: str | None = None, seconds: int | None = None) -> Load:
    """Send every body once, in order, over CONNECTIONS connections with wrk (one thread: the
    generator needs a few percent of a core, leaving the machine to the app measured)."""
    base = target if isinstance(target, str) else target.base
    directory = directory or target.data_dir  # type: ignore[union-attr]
    requests = Path(directory, "requests.txt")
    write_requests(requests, bodies, base + PATH)
    httpx.get(base + "/healthz")  # the app answers before the clock starts
    started_at = time.time()
    run = subprocess.run(
        [wrk_command(), "-t1", f"-c{CONNECTIONS}", f"-d{seconds or SECONDS}s", "--timeout", "60s",
         "-s", str(WRK_SCRIPT), base + PATH, "--", str(requests)],
        capture_output=True, text=True, check=True)
    result = _wrk_result(run.stdout)
    load = Load(label, len(bodies), result.get("status_200", 0), result["duration_us"] / 1e6,
                result["p50_us"] / 1000, result["p99_us"] / 1000, started_at,
                {key: count for key, count in result.items() if key.startswith("status_")},
                frozenset(map(sid_of, bodies[:max(0, result["sent"] - CONNECTIONS)])))
    errors = {key: result[key] for key in ("extra", "connect_errors", "read_errors",
                                           "write_errors", "timeouts") if result[key]}
    print(f"{label}: {load.accepted} of {result['sent']} accepted in {load.seconds:.2f} s "
          f"({load.per_second:.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms); "
          f"answers {load.statuses}" + (f"; wrk errors {errors}" if errors else ""), flush=True)
    return load


def _wrk_result(output: str) -> dict[str, int]:
    """The `wrk-result key=value …` line bench/inbound.lua prints when the run is done."""
    for line in output.splitlines():
        if line.startswith("wrk-result "):
            return {key: int(value) for key, value in
                    (field.split("=", 1) for field in line.split()[1:])}
    raise RuntimeError(f"wrk printed no result line:\n{output}")


def fixed_rate(label: str, base: str, directory: str, bodies: list[bytes], rate: float,
               cookie: str | None = None) -> Fixed:
    """Open loop: bench/open_loop.py sends the bodies at `rate`, in a process of its own."""
    requests = Path(directory, "fixed.txt")
    write_requests(requests, bodies, base + PATH)
    out = Path(directory, "fixed.json")
    command = [sys.executable, "-m", "bench.open_loop", base + PATH, str(requests),
               "--rate", f"{rate:.1f}", "--out", str(out)] + (["--cookie", cookie] if cookie
                                                              else [])
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    raw = json.loads(out.read_text())
    latencies = [at for at in raw["latency"] if at is not None]
    fixed = Fixed(rate, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000,
                  max(latencies) * 1000, {str(k): v for k, v in raw["statuses"].items()},
                  raw["cpu_share"], raw["late_ms_p99"], raw)
    print(f"{label} at {rate:.0f} req/s, open loop: p50 {fixed.p50_ms:.1f} ms, p99 "
          f"{fixed.p99_ms:.1f} ms, max {fixed.max_ms:.0f} ms; answers {fixed.statuses}, "
          f"{raw['errors']} errors, {raw['connections']} connections; generator "
          f"{fixed.cpu_share:.0%} of a core, sends late by {fixed.late_ms_p99:.1f} ms (p99)",
          flush=True)
    return fixed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# The limits: parse the form (and insert one row), served like ours -------------------------

LIMIT_METADATA = MetaData()
LIMIT_TABLE = Table(
    "sms", LIMIT_METADATA,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(64), unique=True, nullable=False),
    Column("sender", String(64), nullable=False),
    Column("body", Text, nullable=False),
)
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def limit_app(kind: str, database_url: str):
    """A FastAPI app with the one route: parse the form with our Twilio parser, (insert a row
    and commit,) answer empty TwiML. Each engine's insert is done its fastest simple way: on
    SQLite on the event loop (one writer: no lock waits, no thread hop), on PostgreSQL in the
    threadpool, as a sync FastAPI route would (concurrent commits, which PostgreSQL groups)."""
    app = FastAPI()
    engine = make_engine(database_url) if kind == "insert" else None

    def store(form: dict[str, list[str]]) -> None:
        assert engine is not None
        try:
            with engine.begin() as connection:
                connection.execute(insert(LIMIT_TABLE).values(
                    message_sid=form["MessageSid"][0], sender=form["From"][0],
                    body=form["Body"][0]))
        except IntegrityError:
            pass  # a retry: answered the same, nothing inserted

    @app.post(PATH)
    async def twilio(request: Request) -> Response:
        form = form_params(await request.body())
        if engine is None:
            pass
        elif engine.dialect.name == "sqlite":
            store(form)
        else:
            await run_in_threadpool(store, form)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"ok")

    return app


def serve_limit(kind: str, database_url: str, port: int) -> None:
    """Served exactly as `clientcontact serve` serves the app."""
    import uvicorn

    uvicorn.run(limit_app(kind, database_url), host="127.0.0.1", port=port, **UVICORN_OPTIONS,
                proxy_headers=False)  # as `serve` runs with no TRUSTED_PROXIES


@dataclass(frozen=True)
class LimitServer:
    base: str
    directory: str
    engine: Engine

    def lost_and_duplicated(self, loads: list[Load]) -> tuple[int, int]:
        with self.engine.connect() as connection:
            stored = connection.execute(select(LIMIT_TABLE.c.message_sid)).scalars().all()
        return lost_and_duplicated(loads, stored)


@contextmanager
def limit_server(kind: str, database: str) -> Iterator[LimitServer]:
    with _database(database) as url, tempfile.TemporaryDirectory() as directory:
        engine = make_engine(url)
        LIMIT_METADATA.create_all(engine)
        port = free_port()
        try:
            with process([sys.executable, "-m", "bench.inbound", "--serve-limit", kind, url,
                          "--port", str(port)], dict(os.environ), directory, kind):
                base = f"http://127.0.0.1:{port}"
                wait_for(base + "/healthz")
                yield LimitServer(base, directory, engine)
        finally:
            engine.dispose()


def lost_and_duplicated(loads: list[Load], stored: list[str]) -> tuple[int, int]:
    """MessageSids surely answered but not stored; MessageSids stored more than once."""
    answered = frozenset().union(*(load.answered_sids for load in loads))
    return len(answered - set(stored)), len(stored) - len(set(stored))


# Ours: `clientcontact serve` -----------------------------------------------------------------

@dataclass(frozen=True)
class Served:
    """`clientcontact serve` up on a fresh database with the Twilio inbox the load is for."""

    base: str
    env: dict[str, str]
    data_dir: str
    runtime: Runtime
    inbox_id: int


@contextmanager
def serving(database: str, *, in_process: bool) -> Iterator[Served]:
    with _database(database) as url, tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir, "SECRET_KEY": SECRET,
               "PUBLIC_URL": base, "RUN_WORKER_IN_PROCESS": str(in_process).lower(),
               "EMAIL_SERVICE": "mock", "SMS_SERVICE": "mock", "WORKER_POLL_SECONDS": "0.1",
               "SEED_DEMO": "false"}
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


def end_to_end(served: Served, bodies: list[bytes],
               workers: int) -> tuple[Load, float, tuple[int, int]]:
    """(b): handling runs while the load comes in (in process, or `workers` processes already
    polling); the rate is distinct messages / (last `handled_at` - first request)."""
    label = f"(b) serve + {workers} workers" if workers else "(b) serve, embedded default"
    load = fire(label, served, bodies)
    time.sleep(0.5)  # the requests still in flight when wrk stopped are written or not
    with unit_of_work(served.runtime.factory) as session:
        distinct = session.scalar(select(func.count()).select_from(InboundEventRow))
    last = wait_until_handled(served.runtime, distinct)
    for log_file in Path(served.data_dir).glob("*.log"):  # why an attempt failed
        lines = log_file.read_text().splitlines()
        for line in [line for line in lines if "Error:" in line][:5]:
            print(f"  {log_file.stem}: {line[:300]}")
    with unit_of_work(served.runtime.factory) as session:
        stored = session.scalars(select(Message.external_id).where(
            Message.inbox_id == served.inbox_id, Message.direction == Direction.IN)).all()
    seconds = last - load.started_at
    print(f"{label}: {distinct} messages in their conversations {seconds:.2f} s after the "
          f"first request ({distinct / seconds:.0f} msg/s)", flush=True)
    return load, distinct / seconds, lost_and_duplicated([load], list(stored))


def sse_latency(served: Served) -> tuple[Fixed, list[float], int]:
    """(c): an agent logged in with /events open; webhooks at SSE_RATE; for each message, from
    its webhook's intended send time to its `message.created` on the stream."""
    with httpx.Client(base_url=served.base) as client:
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post("/login", data={"email": AGENT[0], "password": AGENT[1],
                                             "csrf_token": token})
        assert answer.status_code == 303, answer.text
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    bodies = webhook_bodies(int(SSE_RATE * FIXED_SECONDS), first=2 * 10**6, duplicates=False)
    fixed = fixed_rate("(c) webhooks, /events open", served.base, served.data_dir, bodies,
                       SSE_RATE, cookie)
    intended = {sid_of(body): at for body, at in zip(bodies, fixed.raw["intended"],
                                                     strict=True)}
    with unit_of_work(served.runtime.factory) as session:
        sids = dict(session.execute(select(Message.id, Message.external_id).where(
            Message.external_id.in_(intended))).all())
    delays = [at - intended[sids[int(message_id)]]
              for message_id, at in fixed.raw["arrivals"].items() if int(message_id) in sids]
    missing = len(bodies) - len(delays)
    print(f"(c) webhook -> /events: p50 {percentile(delays, 50) * 1000:.1f} ms, p99 "
          f"{percentile(delays, 99) * 1000:.1f} ms over {len(delays)} messages, {missing} not "
          f"seen", flush=True)
    return fixed, delays, missing


def seed_twilio_inbox(runtime) -> int:
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Acme")
        agent = accounts.create_agent(session, email=AGENT[0], name="Alice", password=AGENT[1])
        accounts.add_member(session, account, agent, Role.ADMIN)
        actor = Actor(account_id=account.id, agent_id=agent.id, role=Role.ADMIN.value)
        inbox = create_inbox(session, actor, name="SMS", channel=ChannelKind.SMS,
                             provider="twilio", address=OUR_NUMBER,
                             credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
                             box=runtime.adapters.box)
        session.flush()
        return inbox.id


def wait_until_handled(runtime, events: int, within: float = 300.0) -> float:
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
    if retried:
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


def _spread(values: list[float], digits: int = 2) -> str:
    """The median, and the range when there are several."""
    middle = f"{statistics.median(values):.{digits}f}"
    if len(values) < 2:
        return middle
    return f"{middle} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def table(database: str, rounds: list[dict[str, Load]], alone_fixed: Fixed,
          insert_fixed: Fixed, default: Load, default_e2e: float,
          separate: tuple[Load, float, tuple[int, int]] | None, workers: int,
          sse: tuple[Fixed, list[float], int], around: dict[str, tuple[Load, Load]]) -> str:
    def rates(name: str) -> list[float]:
        return [r[name].per_second for r in rounds]

    def per_round(name: str, base: str) -> str:
        return _spread([r[name].per_second / r[base].per_second for r in rounds])

    def p99s(name: str) -> str:
        return _spread([r[name].p99_ms for r in rounds], 0)

    insert_rate = statistics.median(rates("insert"))
    lines = [
        f"| {database}, wrk {CONNECTIONS} connections: {len(rounds)} interleaved rounds of "
        f"{ROUND_SECONDS} s, median (range) | req/s | p99 ms | x bare | x form+insert |",
        "|---|---:|---:|---:|---:|",
        f"| limit: bare (parse, answer) | {_spread(rates('bare'), 0)} | {p99s('bare')} | | |",
        f"| limit: form+insert (parse, insert, commit, answer) | {_spread(rates('insert'), 0)} "
        f"| {p99s('insert')} | {per_round('insert', 'bare')} | |",
        f"| (a) intake alone (`RUN_WORKER_IN_PROCESS=false`) | {_spread(rates('alone'), 0)} | "
        f"{p99s('alone')} | **{per_round('alone', 'bare')}** | {per_round('alone', 'insert')} |",
        f"| (a) p99 ÷ form+insert p99 | | "
        f"**{_spread([r['alone'].p99_ms / r['insert'].p99_ms for r in rounds])}** | | |",
    ]

    def beside(label: str, key: str, load: Load, end_to_end: float) -> list[str]:
        bare = statistics.mean(one.per_second for one in around[key])
        return [
            f"| limit: bare, just before and after (b) | "
            f"{' / '.join(f'{one.per_second:.0f}' for one in around[key])} | | | |",
            f"| (b) intake, {label} | {load.per_second:.0f} ({SECONDS} s) | {load.p99_ms:.0f} | "
            f"{load.per_second / bare:.2f} | {load.per_second / insert_rate:.2f} |",
            f"| (b) end to end, {label}, msg/s | {end_to_end:.0f} | | "
            f"**{end_to_end / bare:.2f}** | {end_to_end / insert_rate:.2f} |"]

    lines += beside("embedded default (worker in process)", "default", default, default_e2e)
    if separate is not None:
        lines += beside(f"serve + {workers} workers", "separate", separate[0], separate[1])
    fixed, delays, missing = sse
    lines += [
        "",
        "| open loop, fixed rate, 10 s | req/s | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        f"| limit: form+insert | {insert_fixed.rate:.0f} | {insert_fixed.p50_ms:.1f} | "
        f"{insert_fixed.p99_ms:.1f} | {insert_fixed.max_ms:.0f} |",
        f"| (a) intake alone, half its saturated rate | {alone_fixed.rate:.0f} | "
        f"{alone_fixed.p50_ms:.1f} | **{alone_fixed.p99_ms:.1f}** | {alone_fixed.max_ms:.0f} |",
        f"| (c) webhook answered, embedded default | {fixed.rate:.0f} | {fixed.p50_ms:.1f} | "
        f"{fixed.p99_ms:.1f} | {fixed.max_ms:.0f} |",
        f"| (c) webhook → `message.created` on /events ({missing} not seen) | "
        f"{fixed.rate:.0f} | {percentile(delays, 50) * 1000:.1f} | "
        f"**{percentile(delays, 99) * 1000:.1f}** | {max(delays) * 1000:.0f} |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
