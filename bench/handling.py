"""Handling stored inbound events: CPU time and statements per message, in this process.

Stores the Twilio SMS webhooks of `bench.inbound` (each MessageSid once, 300 senders) as raw
events with one `ingest.handle` job each, as the intake does, into a fresh database; then
drains the job runner in this process and reports per message: this process's CPU time
(`time.process_time`, which other load on a shared machine inflates far less than wall time;
PostgreSQL's own CPU is not in it), the statements sent and the commits; and the wall time.
Afterwards it checks that every message is stored once and counts contacts and conversations.

    .venv/bin/python -m bench.handling                                  # SQLite, PostgreSQL
    .venv/bin/python -m bench.handling --database sqlite --messages 3000 --rounds 3

PostgreSQL uses BENCH_POSTGRES_URL like `bench.delivery`, in a database of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from sqlalchemy import event, func, select

from bench.delivery import _database
from bench.inbound import PATH, SECRET, SENDERS, seed_twilio_inbox, webhook_bodies
from clientcontact.channels.base import RawRequest
from clientcontact.contacts.models import Contact
from clientcontact.conversations.models import Conversation, Direction, Message
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.jobs import KIND
from clientcontact.ingest.store import RawEvent, store_raw_many
from clientcontact.jobs.queue import enqueue_many
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings

PUBLIC_URL = "https://inbox.example.com"
STORE_BATCH = 200  # events per intake transaction, as the group commit writes them


@dataclass(frozen=True)
class Figure:
    database: str
    messages: int
    cpu_seconds: float
    wall_seconds: float
    statements: int
    commits: int
    stored: int  # incoming message rows
    distinct: int  # distinct MessageSids among them
    contacts: int
    conversations: int

    def row(self) -> str:
        n = self.messages
        return (f"| {self.database} | {n} | {1000 * self.cpu_seconds / n:.2f} | "
                f"{self.statements / n:.1f} | {self.commits / n:.2f} | "
                f"{n / self.wall_seconds:.0f} | {self.stored} / {self.distinct} | "
                f"{self.contacts} / {self.conversations} |")


HEADING = ("| database | messages | CPU ms/message | statements/message | commits/message | "
           "messages/s (wall) | stored / distinct | contacts / conversations |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1, help="fresh databases per engine")
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.messages} messages "
          f"from {SENDERS} senders", flush=True)
    figures = [measure(engine, args.messages) for engine in engines for _ in range(args.rounds)]
    print(HEADING)
    for figure in figures:
        print(figure.row())
    for engine in engines:
        cpu = [1000 * f.cpu_seconds / f.messages for f in figures if f.database == engine]
        print(f"{engine}: median CPU {statistics.median(cpu):.2f} ms/message")


def measure(database: str, messages: int) -> Figure:
    bodies = list(dict.fromkeys(webhook_bodies(messages)))  # each MessageSid once
    with _database(database) as url, tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir),
                            secret_key=SECRET, public_url=PUBLIC_URL, run_worker_in_process=False,
                            sms_service="mock", email_service="mock")
        runtime = build_runtime(settings)
        try:
            upgrade(runtime.engine)
            store_events(runtime, seed_twilio_inbox(runtime), bodies)
            counts = {"statements": 0, "commits": 0}
            _count(runtime, counts)
            cpu, wall = time.process_time(), time.perf_counter()
            runtime.runner.drain(max_rounds=100_000)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return Figure(database, len(bodies), cpu, wall, counts["statements"],
                          counts["commits"], *_results(runtime))
        finally:
            runtime.engine.dispose()


def store_events(runtime: Runtime, inbox_id: int, bodies: list[bytes]) -> None:
    """As the intake stores them: raw, one job each, in group-committed batches."""
    with unit_of_work(runtime.factory) as session:
        inbox = session.get_one(Inbox, inbox_id)
    events = [RawEvent(inbox, "inbound", dict(parse_qsl(body.decode()))["MessageSid"],
                       RawRequest("POST", PUBLIC_URL + PATH,
                                  {"content-type": "application/x-www-form-urlencoded"}, body))
              for body in bodies]
    for start in range(0, len(events), STORE_BATCH):
        with unit_of_work(runtime.factory) as session:
            stored = store_raw_many(session, events[start:start + STORE_BATCH])
            enqueue_many(session, KIND, [({"event_id": event_id}, account_id)
                                         for event_id, account_id in stored])


def _count(runtime: Runtime, counts: dict[str, int]) -> None:
    def statement(*_: object) -> None:
        counts["statements"] += 1

    def commit(*_: object) -> None:
        counts["commits"] += 1

    event.listen(runtime.engine, "before_cursor_execute", statement)
    event.listen(runtime.engine, "commit", commit)


def _results(runtime: Runtime) -> tuple[int, int, int, int]:
    with unit_of_work(runtime.factory) as session:
        stored, distinct = session.execute(
            select(func.count(), func.count(Message.external_id.distinct()))
            .where(Message.direction == Direction.IN)).one()
        contacts = session.scalar(select(func.count()).select_from(Contact))
        conversations = session.scalar(select(func.count()).select_from(Conversation))
    return stored, distinct, contacts or 0, conversations or 0


if __name__ == "__main__":
    main()
