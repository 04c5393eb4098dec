"""Runs due jobs: inside `serve` as a thread (embedded default) or as `clientcontact worker`.

A handler returns when its job is done, or raises RetryLater; any other exception is logged and
the job retried with backoff, so a bug never silently drops work. A batch handler takes every
claimed job of its kind at once (delivery: a few statements per batch instead of per message)
and records each job's outcome itself; if it raises, its jobs not yet settled are retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from clientcontact.channels.base import ChannelAdapter
from clientcontact.channels.registry import AdapterContext, adapter_for
from clientcontact.db.base import utcnow
from clientcontact.db.failures import is_conflict, is_transient
from clientcontact.db.scope import unit_of_work
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import claim, finish, may_start, next_due, release, retry_later
from clientcontact.jobs.wakeups import NotifyListener
from clientcontact.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
_ADAPTER_CACHE_SIZE = 256  # inboxes a worker keeps ready; beyond that, the oldest are rebuilt
# Jobs a worker runs at once, unless WORKER_CONCURRENCY says: a send mostly waits (on the
# provider, on a commit), so a few at once keep a process busy. SQLite has one writer at a time.
DEFAULT_CONCURRENCY: dict[str, int] = {"postgresql": 4, "sqlite": 1}
# Seconds before a job that lost a deadlock runs again: jittered, so the two sides that
# clashed do not meet again at once.
_CLASH_PAUSE = (0.1, 1.0)
# How long an idle worker waits for a wake-up before it looks for due work anyway, unless
# WORKER_POLL_SECONDS says. PostgreSQL wakes workers in any process (NOTIFY), so its poll is
# only a fallback; on SQLite only a worker inside the process that enqueues is woken.
DEFAULT_POLL_SECONDS: dict[str, float] = {"postgresql": 5.0, "sqlite": 1.0}
_SHORTEST_WAIT = 0.05  # a job due but not claimable (another worker is taking it) never spins


class RetryLater(Exception):
    def __init__(self, error: str, *, delay: float) -> None:
        super().__init__(error)
        self.error = error
        self.delay = delay


def backoff(attempt: int, *, base: float = 5.0, cap: float = 3600.0) -> float:
    """Exponential with full jitter, so a provider coming back is not hit by a thundering herd."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(0, attempt - 1))


@dataclass
class WorkerRuntime:
    """What handlers may use: sessions, adapters, files, and an event loop for async sends."""

    factory: sessionmaker[Session]
    settings: Settings
    adapters: AdapterContext
    store: LocalFileStore
    _loops: threading.local = field(default_factory=threading.local, repr=False)
    _built: dict[tuple[Any, ...], ChannelAdapter] = field(default_factory=dict, repr=False)
    _building: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run an async call (sends) to completion on this thread's own event loop, or, when
        the caller's thread already runs a loop (async code, a greenlet-driven library), on a
        short-lived thread of its own: a loop cannot be re-entered."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            with ThreadPoolExecutor(1, thread_name_prefix="send") as pool:
                return pool.submit(self._run_on_new_loop, coroutine).result()
        loop = getattr(self._loops, "loop", None)
        if loop is None:
            loop = self._loops.loop = self._new_loop()
        return loop.run_until_complete(coroutine)

    def _run_on_new_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._new_loop()
        try:
            return loop.run_until_complete(coroutine)
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """A loop whose thread pool fits WORKER_CONCURRENCY sends plus a database write: a
        send queued for a thread would count that wait against its deadline."""
        loop = asyncio.new_event_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(self.concurrency + 1, thread_name_prefix="io"))
        return loop

    @property
    def dialect(self) -> str:
        return self.factory.kw["bind"].dialect.name

    @property
    def concurrency(self) -> int:
        return self.settings.worker_concurrency or DEFAULT_CONCURRENCY.get(self.dialect, 1)

    @property
    def poll_seconds(self) -> float:
        return self.settings.worker_poll_seconds or DEFAULT_POLL_SECONDS.get(self.dialect, 1.0)

    def adapter(self, inbox: Inbox) -> ChannelAdapter:
        """The inbox's adapter, built once per worker and per credentials: an SDK client is
        costly to make (boto3's most of all) and keeps its connections open for the next send."""
        key = (inbox.id, inbox.provider, inbox.address, inbox.credentials_encrypted)
        with self._building:
            adapter = self._built.get(key)
            if adapter is None:
                if len(self._built) >= _ADAPTER_CACHE_SIZE:
                    self._built.pop(next(iter(self._built)))  # the oldest built
                adapter = self._built[key] = adapter_for(inbox, self.adapters)
            return adapter


Handler = Callable[[Job, WorkerRuntime], object]
# Takes every claimed job of its kind at once; settles each (finish or retry_later) itself.
BatchHandler = Callable[[list[Job], WorkerRuntime], None]


def retry_after_error(session: Session, job: Job, exc: BaseException) -> None:
    """A job that failed unexpectedly: logged, and tried again after a backoff. One that lost
    a deadlock or a serialization race was not at fault: it runs again in a moment, and the
    attempt does not count towards any limit of its kind."""
    error = f"{type(exc).__name__}: {exc}"
    if is_conflict(exc):
        log.warning("job %s (%s) clashed with another transaction; again shortly: %s",
                    job.id, job.kind, exc)
        release(session, job.id, delay=random.uniform(*_CLASH_PAUSE), error=error)
        return
    log.error("job %s (%s) failed", job.id, job.kind, exc_info=exc)
    retry_later(session, job.id, delay=backoff(job.attempts), error=error)


class JobRunner:
    def __init__(self, runtime: WorkerRuntime, handlers: dict[str, Handler],
                 batch_handlers: dict[str, BatchHandler] | None = None,
                 *, batch: int = 10) -> None:
        self.runtime = runtime
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        concurrency = runtime.concurrency
        # A claim and a batch handler's loads cost the same for 10 jobs as for 30, so a worker
        # running several at once claims several rounds' worth; `may_start` keeps that safe.
        self.batch = max(batch, 8 * concurrency)
        self._pool = (ThreadPoolExecutor(concurrency, thread_name_prefix="job")
                      if concurrency > 1 else None)
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Claim and run one batch of due jobs; returns how many were claimed."""
        settings = self.runtime.settings
        with unit_of_work(self.runtime.factory) as session:
            jobs = claim(session, limit=self.batch, lease_seconds=settings.delivery_lease_seconds)
        for kind, group in _by_kind(jobs).items():
            batch_handler = self.batch_handlers.get(kind)
            if batch_handler is not None:
                self._run_batch(batch_handler, group)
            elif self._pool is None:
                for job in group:
                    self._run(job)
            else:
                list(self._pool.map(self._run, group))
        return len(jobs)

    def drain(self, max_rounds: int = 1000) -> None:
        """Run until nothing is due (tests and the CLI's one-shot mode)."""
        for _ in range(max_rounds):
            if not self.run_once():
                return

    def run_forever(self) -> None:
        """Claim and run batches while there are due jobs; when idle, sleep until woken (new
        work committed), until the next retry is due, or for the fallback poll. While the
        database is away, wait longer after each failure in a row."""
        engine = self.runtime.factory.kw["bind"]
        listener = (NotifyListener(engine, self.wake).start()
                    if self.runtime.dialect == "postgresql" else None)
        failures = 0
        try:
            while not self._stop.is_set():
                self._wake.clear()  # before claiming: a wake-up during the claim is kept
                try:
                    claimed = self.run_once()
                    failures = 0
                except Exception as exc:
                    failures += 1
                    log.error("job runner failed (%d in a row), trying again: %s", failures,
                              exc, exc_info=exc if failures == 1 or not is_transient(exc)
                              else None)
                    self._stop.wait(backoff(failures, base=0.5, cap=30.0))
                    continue
                if not claimed:
                    self._wake.wait(self._idle_seconds())
        finally:
            if listener is not None:
                listener.stop()

    def _idle_seconds(self) -> float:
        """The fallback poll, or less when a retry (or an expired lease) is due sooner."""
        poll = self.runtime.poll_seconds
        try:
            with unit_of_work(self.runtime.factory) as session:
                due = next_due(session)
        except Exception:
            log.exception("job runner failed to read the next due time")
            return poll
        if due is None:
            return poll
        return min(poll, max(_SHORTEST_WAIT, (due - utcnow()).total_seconds()))

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="job-runner", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self, job: Job) -> None:
        if not may_start(job, lease_seconds=self.runtime.settings.delivery_lease_seconds):
            with unit_of_work(self.runtime.factory) as session:
                release(session, job.id)
            return
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise RetryLater(f"no handler for job kind {job.kind!r}", delay=3600)
            handler(job, self.runtime)
        except RetryLater as later:
            with unit_of_work(self.runtime.factory) as session:
                retry_later(session, job.id, delay=later.delay, error=later.error)
        except Exception as exc:
            self._settle([job], exc)
        else:
            with unit_of_work(self.runtime.factory) as session:
                finish(session, job.id)

    def _run_batch(self, handler: BatchHandler, jobs: list[Job]) -> None:
        try:
            handler(jobs, self.runtime)
        except Exception as exc:
            self._settle(jobs, exc)  # jobs the handler already settled stay as it left them

    def _settle(self, jobs: Iterable[Job], exc: Exception) -> None:
        with unit_of_work(self.runtime.factory) as session:
            for job in jobs:
                retry_after_error(session, job, exc)


def _by_kind(jobs: list[Job]) -> dict[str, list[Job]]:
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.kind, []).append(job)
    return groups
