"""The job runner settles what its handlers leave: on PostgreSQL, a job that loses a deadlock
to another transaction runs again at once, and that attempt does not count against it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from clientcontact.accounts.models import Account
from clientcontact.db.scope import unit_of_work
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import enqueue, finish
from clientcontact.jobs.runner import JobRunner, WorkerRuntime
from tests.harness import Api, AppServer, make_personas

KIND = "test.clash"


@pytest.fixture
def postgres_api(postgres_databases: Callable[[], str], tmp_path: Path) -> Iterator[Api]:
    server = AppServer.start(database_url=postgres_databases(), data_dir=tmp_path)
    yield Api(server, make_personas(server))
    server.stop()


class Clash:
    """A job that updates two accounts, Acme then Globex, while on its first run another
    transaction takes them in the opposite order: a real deadlock, which PostgreSQL breaks
    by aborting the side that waited first, the job."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.attempts_seen: list[int] = []
        self._they_hold_globex = threading.Event()
        self._we_hold_acme = threading.Event()

    def run(self, job: Job, runtime: WorkerRuntime) -> None:
        self.attempts_seen.append(job.attempts)
        with unit_of_work(runtime.factory) as session:
            self._touch(session, self.api.alice.actor.account_id)
            if len(self.attempts_seen) == 1:
                self._we_hold_acme.set()
                self._they_hold_globex.wait(10)
            self._touch(session, self.api.carol.actor.account_id)

    def run_batch(self, jobs: list[Job], runtime: WorkerRuntime) -> None:
        """As a batch handler, which settles its jobs itself."""
        [job] = jobs
        self.run(job, runtime)
        with unit_of_work(runtime.factory) as session:
            finish(session, job.id)

    def the_other_side(self) -> None:
        with unit_of_work(self.api.server.runtime.factory) as session:
            self._we_hold_acme.wait(10)
            self._touch(session, self.api.carol.actor.account_id)
            self._they_hold_globex.set()
            session.execute(text("SELECT pg_sleep(0.3)"))  # the job waits first
            self._touch(session, self.api.alice.actor.account_id)

    @staticmethod
    def _touch(session: object, account_id: int) -> None:
        session.execute(update(Account).where(Account.id == account_id)  # type: ignore[attr-defined]
                        .values(name=Account.name))


@pytest.mark.parametrize("batched", [False, True], ids=["one-job", "batch"])
def test_a_job_that_loses_a_deadlock_runs_again_with_its_attempt_uncounted(
        postgres_api: Api, batched: bool) -> None:
    api = postgres_api
    clash = Clash(api)
    runtime = api.server.runtime.runner.runtime
    runner = (JobRunner(runtime, {}, {KIND: clash.run_batch}) if batched
              else JobRunner(runtime, {KIND: clash.run}))
    with api.session() as session:
        enqueue(session, KIND, {}, account_id=None)
    other = threading.Thread(target=clash.the_other_side)
    other.start()

    runner.run_once()
    other.join(timeout=10)

    with api.session() as session:
        [job] = session.scalars(select(Job)).all()
    assert "deadlock detected" in (job.last_error or "")
    assert job.attempts == 0 and job.lease_expires_at is None  # given back, uncounted
    deadline = time.monotonic() + 1.5  # due again within a second, not after a backoff
    while len(clash.attempts_seen) < 2 and time.monotonic() < deadline:
        runner.run_once()
        time.sleep(0.05)
    assert clash.attempts_seen == [1, 1]
    with api.session() as session:
        assert session.scalars(select(Job)).all() == []
