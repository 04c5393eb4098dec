"""The job queue in the database: enqueue with the work, claim with a lease, finish or retry.

On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of worker processes on any
number of machines never take the same job; the lease makes a dead worker's job claimable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from clientcontact.db.base import utcnow
from clientcontact.jobs.models import Job
from clientcontact.jobs.wakeups import wake_workers_after_commit

_jobs = Job.__table__


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, account_id: int | None,
            key: str | None = None, run_after: datetime | None = None) -> Job | None:
    """Add a job in the caller's transaction; a live job with the same key makes this a no-op."""
    if key is not None and session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return None
    job = Job(kind=kind, payload=payload, account_id=account_id, key=key,
              run_after=run_after or utcnow())
    session.add(job)
    session.flush()
    wake_workers_after_commit(session)
    return job


def enqueue_many(session: Session, kind: str,
                 jobs: Sequence[tuple[dict[str, Any], int | None]]) -> None:
    """Add one job per (payload, account id) in one INSERT, in the caller's transaction: a
    burst of work stays one job each, so several workers can share it."""
    if not jobs:
        return
    now = utcnow()
    session.execute(insert(_jobs), [
        {"kind": kind, "payload": payload, "account_id": account_id, "run_after": now,
         "attempts": 0, "created_at": now} for payload, account_id in jobs])
    wake_workers_after_commit(session)


def claim(session: Session, *, limit: int, lease_seconds: int,
          now: datetime | None = None) -> list[Job]:
    """Lease up to `limit` due jobs in one statement. The caller commits right away: a claim
    is its own short transaction, so a slow send never holds a row lock."""
    now = now or utcnow()
    free = or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now)
    due = (select(Job.id).where(Job.run_after <= now, free)
           .order_by(Job.run_after, Job.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
        # The claim need not wait for its own flush to disk: a claim lost in a crash only
        # makes its jobs claimable again, and nothing is sent before the handler's next
        # commit, which waits for the flush and so makes the claim durable too.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    # The lease condition is checked again by the UPDATE itself, so even without row locks
    # (SQLite) two claimers cannot both win the same job.
    claimed = session.scalars(
        update(Job).where(Job.id.in_(due.scalar_subquery()), free)
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1)
        .returning(Job)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda job: job.id)


def next_due(session: Session) -> datetime | None:
    """When a job will next be claimable, as far as this database knows now: the earliest
    retry, or the earliest lease to run out (a worker that died). None when there is no job."""
    waiting = session.scalar(select(func.min(Job.run_after)).where(Job.lease_expires_at.is_(None)))
    leased = session.scalar(select(func.min(Job.lease_expires_at)))
    return min((t for t in (waiting, leased) if t is not None), default=None)


def finish(session: Session, *job_ids: int) -> None:
    """Delete done jobs; the caller commits this together with the work's outcome."""
    if job_ids:
        session.execute(delete(_jobs).where(_jobs.c.id.in_(job_ids)))


def may_start(job: Job, *, lease_seconds: int, now: datetime | None = None) -> bool:
    """A claimed job starts only while at least half its lease remains, so that it ends (a
    send within its deadline) before another worker may take it over. A long batch is safe."""
    left = job.lease_expires_at - (now or utcnow()) if job.lease_expires_at else timedelta()
    return left >= timedelta(seconds=lease_seconds / 2)


def release(session: Session, *job_ids: int, delay: float = 0.0,
            error: str | None = None) -> None:
    """Give back leased jobs whose attempt does not count (not started, or undone by a clash
    with another transaction): due again at once or after `delay` seconds."""
    if not job_ids:
        return
    values: dict[str, Any] = {"lease_expires_at": None, "attempts": _jobs.c.attempts - 1}
    if delay:
        values["run_after"] = utcnow() + timedelta(seconds=delay)
    if error is not None:
        values["last_error"] = error[:2000]
    session.execute(update(_jobs)
                    .where(_jobs.c.id.in_(job_ids), _jobs.c.lease_expires_at.is_not(None))
                    .values(values))


def retry_later(session: Session, job_id: int, *, delay: float, error: str) -> None:
    """Release a leased job to run again after `delay`. A job already finished or released
    is left as it is, so settling a job twice never undoes the first outcome."""
    session.execute(update(Job).where(Job.id == job_id, Job.lease_expires_at.is_not(None))
                    .values(run_after=utcnow() + timedelta(seconds=delay),
                            lease_expires_at=None, last_error=error[:2000]))
