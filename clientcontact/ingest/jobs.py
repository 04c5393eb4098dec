"""The `ingest.handle` job, a claimed batch at a time: BATCH_SIZE stored events are applied in
one transaction, each in a SAVEPOINT of its own (`handling.handle_stored`), and their jobs are
finished in the same commit as their work: about half the statements of a transaction per
event, and a tenth of the commits.

An event that fails keeps its error on its row, visible in the API, and retries a few times
with backoff (a routing race may pass; a deadlock is retried without being counted), then
stops and leaves the row for `clientcontact replay-inbound`, which runs `handle_event` again
after a fix. Realtime pushes are published after the commit, and never for an event whose
SAVEPOINT rolled back.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientcontact.db.failures import is_conflict
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import owned
from clientcontact.ingest.handling import (
    Outcome,
    Target,
    error_text,
    handle_stored,
    log_failure,
    storable_text,
)
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.prefetch import Prefetched, prefetch
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import finish, may_start, release, retry_later
from clientcontact.jobs.runner import WorkerRuntime, backoff

log = logging.getLogger(__name__)

KIND = "ingest.handle"
MAX_ATTEMPTS = 3  # then the row waits, failed and listed, for replay-inbound
# Events per transaction: locks (SQLite's one write lock above all) are held for a few tens
# of milliseconds, and PostgreSQL keeps the batch's subtransactions (a SAVEPOINT per event,
# one more per new contact) within the 64 it tracks cheaply per transaction.
BATCH_SIZE = 20


def handle_inbound(jobs: list[Job], runtime: WorkerRuntime) -> None:
    """Batch handler of `ingest.handle`: every job ends finished, waiting for its retry, or
    released untried (see `may_start`)."""
    for start in range(0, len(jobs), BATCH_SIZE):
        _handle_batch(jobs[start:start + BATCH_SIZE], runtime)


def _handle_batch(jobs: list[Job], runtime: WorkerRuntime) -> None:
    """The network first (media, SNS confirmations), outside any transaction; then the batch.
    A batch that cannot commit as a whole (a lost connection, a failed commit) is handled
    again an event at a time, so no event is lost with its neighbours."""
    ready = _startable(jobs, runtime)
    prefetched = prefetch(runtime, [_target(job) for job in ready])
    try:
        with unit_of_work(runtime.factory) as session:
            release(session, *({job.id for job in jobs} - {job.id for job in ready}))
            _settle(session, ready, handle_stored(session, runtime,
                                                  [_target(j) for j in ready], prefetched))
    except Exception as exc:
        log.error("a batch of %s inbound events failed; handling them one by one", len(jobs),
                  exc_info=exc)
        for job in jobs:
            _handle_alone(job, runtime, prefetched if job in ready else None)


def _handle_alone(job: Job, runtime: WorkerRuntime, prefetched: Prefetched | None) -> None:
    if prefetched is None:
        with unit_of_work(runtime.factory) as session:
            release(session, job.id)
        return
    event_id, account_id = _target(job)
    outcome = handle_event(runtime, event_id, account_id=account_id, prefetched=prefetched)
    with unit_of_work(runtime.factory) as session:
        _settle(session, [job], {event_id: outcome})


def _startable(jobs: list[Job], runtime: WorkerRuntime) -> list[Job]:
    """The jobs with at least half their lease left, decided before the network is asked
    anything (which takes at most a quarter); the others are given back untried."""
    lease = runtime.settings.delivery_lease_seconds
    return [job for job in jobs if may_start(job, lease_seconds=lease)]


def _target(job: Job) -> Target:
    return int(job.payload["event_id"]), job.account_id


def _settle(session: Session, jobs: list[Job], outcomes: dict[int, Outcome]) -> None:
    """Finish the jobs whose event is handled, gone or out of attempts (it waits for
    replay-inbound); the others retry with backoff."""
    done = []
    for job in jobs:
        outcome = outcomes[_target(job)[0]]
        if outcome.handled or outcome.gone or outcome.attempts >= MAX_ATTEMPTS:
            done.append(job.id)
        else:
            retry_later(session, job.id, delay=backoff(outcome.attempts),
                        error=outcome.error or "inbound event failed")
    finish(session, *done)


def handle_event(runtime: WorkerRuntime, event_id: int, *, account_id: int | None,
                 prefetched: Prefetched | None = None) -> Outcome:
    """Apply one stored event in a transaction of its own (replay-inbound), after what it
    needs from the network (unless done already); an event already handled is left alone."""
    target = (event_id, account_id)
    try:
        prefetched = prefetched or prefetch(runtime, [target])
        with unit_of_work(runtime.factory) as session:
            return handle_stored(session, runtime, [target], prefetched)[event_id]
    except Exception as exc:  # any failure must stay visible on the row, never vanish
        log_failure(event_id, exc)
        return _record_failure(runtime, event_id, account_id, exc)


def _record_failure(runtime: WorkerRuntime, event_id: int, account_id: int | None,
                    exc: Exception) -> Outcome:
    """After a transaction that could not commit: the error, and the attempt unless other
    work was in the way (a deadlock), in a new one."""
    error = error_text(exc)
    with unit_of_work(runtime.factory) as session:
        row = session.scalar(select(InboundEventRow).where(
            owned(InboundEventRow, [(event_id, account_id or 0)])))
        if row is None:
            return Outcome(event_id, False, 0, error, gone=True)
        row.attempts += 0 if is_conflict(exc) else 1
        row.error = storable_text(error)
        return Outcome(row.id, False, row.attempts, row.error)
