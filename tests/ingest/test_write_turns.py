"""On SQLite, webhooks are not starved by the in-process worker: while another thread of the
process writes transaction after transaction (the worker handling a backlog), the intake's
writer still commits each batch within about one of those transactions, where SQLite's busy
handler alone let it wait for seconds, polling."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.ingest.group_commit import GroupCommit
from clientcontact.runtime import Runtime, build_runtime
from tests.harness import settings_for_tests

WORKER_TRANSACTION = 0.02  # seconds each of the busy thread's transactions holds the lock


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = settings_for_tests(database_url=f"sqlite:///{tmp_path}/turns.db",
                                  data_dir=tmp_path)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    yield runtime
    runtime.engine.dispose()


def test_the_intake_writer_commits_between_the_workers_transactions(runtime: Runtime) -> None:
    stop = threading.Event()
    worker_commits = 0

    def busy_worker() -> None:
        nonlocal worker_commits
        while not stop.is_set():
            with unit_of_work(runtime.factory) as session:
                accounts.create_account(session, "worker")
                session.flush()
                time.sleep(WORKER_TRANSACTION)
            worker_commits += 1

    def write(session: Session, names: Sequence[str]) -> list[str | Exception]:
        for name in names:
            accounts.create_account(session, name)
        return list(names)

    writer: GroupCommit[str, str] = GroupCommit(runtime.factory, write)
    waits: list[float] = []
    worker_before = 0

    async def webhooks() -> None:
        nonlocal worker_before
        worker_before = worker_commits
        for n in range(15):
            began = time.perf_counter()
            await asyncio.wait_for(writer.submit(f"webhook {n}"), 10)
            waits.append(time.perf_counter() - began)

    thread = threading.Thread(target=busy_worker)
    thread.start()
    try:
        time.sleep(0.1)  # the worker is writing back to back
        asyncio.run(webhooks())
    finally:
        stop.set()
        thread.join()
        writer.close()

    assert max(waits) < 6 * WORKER_TRANSACTION, waits
    assert worker_commits > worker_before  # nor was the worker stopped: they took turns
    with unit_of_work(runtime.factory) as session:
        stored = session.scalar(select(func.count()).select_from(Account)
                                .where(Account.name.like("webhook %")))
    assert stored == 15
