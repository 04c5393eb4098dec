"""UI render time with 100k conversations in the database: the inbox list and a 200-message
conversation, beside two baselines measured in the same run — the JSON API list of the same
page (same queries, no HTML) and a trivial page (the login form: routing, CSRF and template
overhead alone).

    .venv/bin/python -m bench.ui_render                      # SQLite, the figures in BENCHMARKS.md
    .venv/bin/python -m bench.ui_render --database postgresql --conversations 100000

Requests go through the whole ASGI app in-process (Starlette's TestClient): server time only,
no network and no browser. Seeding uses bulk inserts, so it takes a minute, not an hour.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Role
from clientcontact.app import create_app
from clientcontact.channels.base import ChannelKind, DeliveryStatus
from clientcontact.contacts.models import Contact, ContactIdentity, IdentityKind
from clientcontact.conversations.models import Conversation, Direction, Message, MessageKind
from clientcontact.db.base import utcnow
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import ensure_default_inboxes
from clientcontact.runtime import build_runtime
from clientcontact.settings import Settings

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-123"
BATCH = 5000


def seed(engine: Engine, settings: Settings, conversations: int,
         thread_length: int) -> tuple[int, int]:
    """One account with `conversations` one-message conversations (a contact each, across
    email, SMS and WhatsApp) and one conversation of `thread_length` messages."""
    runtime = build_runtime(settings)
    with unit_of_work(runtime.factory) as session:
        account = accounts.create_account(session, "Bench")
        agent = accounts.create_agent(session, email="bench@example.com", name="Bench Agent",
                                      password=PASSWORD)
        accounts.add_member(session, account, agent, Role.ADMIN)
        actor = Actor(account_id=account.id, agent_id=agent.id, role="admin")
        inboxes = ensure_default_inboxes(session, actor, settings)
        account_id, agent_id = account.id, agent.id
        inbox_ids = [(i.id, i.channel) for i in inboxes]
    start = utcnow() - timedelta(days=60)
    with engine.begin() as connection:
        for first in range(0, conversations, BATCH):
            numbers = range(first, min(first + BATCH, conversations))
            contact_rows = [{"account_id": account_id, "name": f"Customer {n}",
                             "created_at": start, "updated_at": start} for n in numbers]
            ids = [row.id for row in connection.execute(
                insert(Contact).returning(Contact.id), contact_rows)]
            identity_rows, conversation_rows = [], []
            for contact_id, n in zip(ids, numbers, strict=True):
                inbox_id, channel = inbox_ids[n % len(inbox_ids)]
                is_email = channel is ChannelKind.EMAIL
                identity_rows.append({
                    "account_id": account_id, "contact_id": contact_id, "created_at": start,
                    "kind": IdentityKind.EMAIL if is_email else IdentityKind.PHONE,
                    "value": f"c{n}@example.org" if is_email else f"+1415{n:07d}"})
                at = start + timedelta(seconds=30 * n)
                conversation_rows.append({
                    "account_id": account_id, "inbox_id": inbox_id, "contact_id": contact_id,
                    "subject": f"Order {n}" if is_email else None,
                    "reply_token": uuid.uuid4().hex[:20], "created_at": at,
                    "last_activity_at": at, "last_inbound_at": at, "waiting_since": at,
                    "assignee_id": agent_id if n % 5 == 0 else None})
            connection.execute(insert(ContactIdentity), identity_rows)
            created = list(connection.execute(
                insert(Conversation).returning(Conversation.id, Conversation.inbox_id,
                                               Conversation.created_at), conversation_rows))
            connection.execute(insert(Message), [
                {"account_id": account_id, "conversation_id": row.id, "inbox_id": row.inbox_id,
                 "direction": Direction.IN, "kind": MessageKind.MESSAGE, "extra": {},
                 "text": "Hello, my order has not arrived yet. Can you check it please?",
                 "created_at": row.created_at} for row in created])
        long_id, long_inbox = created[-1].id, created[-1].inbox_id
        connection.execute(insert(Message), [
            {"account_id": account_id, "conversation_id": long_id, "inbox_id": long_inbox,
             "direction": Direction.OUT if n % 2 else Direction.IN, "kind": MessageKind.MESSAGE,
             "status": DeliveryStatus.DELIVERED if n % 2 else None, "extra": {},
             "author_agent_id": agent_id if n % 2 else None, "created_at": utcnow(),
             "text": f"Message {n} of a long thread, with a sentence or two of text."}
            for n in range(thread_length - 1)])
    runtime.engine.dispose()
    return account_id, long_id


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds, after two warm-up calls."""
    call()
    call()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(database_url: str, data_dir: Path, conversations: int, thread_length: int,
        rounds: int) -> None:
    settings = Settings(_env_file=None, database_url=database_url, data_dir=data_dir,  # type: ignore[call-arg]
                        secret_key="bench", run_worker_in_process=False, seed_demo=False)
    engine = create_engine(database_url)
    upgrade(engine)
    began = time.perf_counter()
    _, long_id = seed(engine, settings, conversations, thread_length)
    # A live database has statistics and a visibility map (autovacuum); a fresh one not yet.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                                else "ANALYZE"))
    print(f"seeded {conversations} conversations in {time.perf_counter() - began:.0f} s")
    with TestClient(create_app(settings)) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        client.post("/login", data={"email": "bench@example.com", "password": PASSWORD,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
        cases = {
            "baseline: login page (template only)": lambda: client.get("/login"),
            "baseline: JSON API list, 25 rows": lambda: client.get("/api/v1/conversations"),
            "inbox list page, 25 rows + counts": lambda: client.get("/"),
            "inbox list fragment (live refresh)": lambda: client.get(
                "/inbox/list", headers={"HX-Request": "true", "X-Live-Refresh": "1"}),
            f"conversation page, {thread_length} messages": lambda: client.get(
                f"/conversations/{long_id}", headers={"HX-Request": "true",
                                                      "HX-Target": "conversation-pane"}),
        }
        print("| case | p50 ms | p95 ms |\n|---|---:|---:|")
        for name, call in cases.items():
            response = call()
            assert getattr(response, "status_code", 200) == 200, name
            p50, p95 = timed(call, rounds)
            print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--thread", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        if args.database == "sqlite":
            url = f"sqlite:///{data_dir / 'bench.db'}"
            run(url, data_dir, args.conversations, args.thread, args.rounds)
            return
        name = f"cc_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            run(url, data_dir, args.conversations, args.thread, args.rounds)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
