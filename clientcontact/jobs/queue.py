"""The job queue in the database: enqueue with the work, claim with a lease, finish or retry.

On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of worker processes on any
number of machines never take the same job; the lease makes a dead worker's job claimable again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from clientcontact.db.base import utcnow
from clientcontact.db.scope import after_commit
from clientcontact.jobs.models import Job


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, account_id: int | None,
            key: str | None = None, run_after: datetime | None = None) -> Job | None:
    """Add a job in the caller's transaction; a live job with the same key makes this a no-op."""
    if key is not None and session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return None
    job = Job(kind=kind, payload=payload, account_id=account_id, key=key,
              run_after=run_after or utcnow())
    session.add(job)
    session.flush()
    wake = session.info.get("wake_worker")
    if wake is not None:
        after_commit(session, wake)
    return job


def claim(session: Session, *, limit: int, lease_seconds: int,
          now: datetime | None = None) -> list[Job]:
    """Lease up to `limit` due jobs. The caller commits right away: a claim is its own
    short transaction, so a slow send never holds a row lock."""
    now = now or utcnow()
    due = (select(Job.id)
           .where(Job.run_after <= now,
                  or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now))
           .order_by(Job.run_after, Job.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    # The lease condition is checked again in the UPDATE itself, so even without row locks
    # (SQLite) two claimers cannot both win the same job.
    claimed = session.scalars(
        update(Job)
        .where(Job.id.in_(ids),
               or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1)
        .returning(Job.id)
    ).all()
    return list(session.scalars(select(Job).where(Job.id.in_(claimed)).order_by(Job.id)
                                .execution_options(populate_existing=True)))


def finish(session: Session, job_id: int) -> None:
    session.execute(delete(Job).where(Job.id == job_id))


def retry_later(session: Session, job_id: int, *, delay: float, error: str) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(
        run_after=utcnow() + timedelta(seconds=delay), lease_expires_at=None,
        last_error=error[:2000]))

