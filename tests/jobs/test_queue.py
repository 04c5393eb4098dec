"""The job queue keeps work safe: leased, never taken twice, taken over when a worker dies."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from clientcontact.db.base import utcnow
from clientcontact.db.scope import unit_of_work
from clientcontact.jobs.models import Job
from clientcontact.jobs.queue import claim, enqueue, finish
from tests.harness import Api


def add_jobs(api: Api, n: int) -> None:
    with api.session() as session:
        for i in range(n):
            enqueue(session, "test.noop", {"i": i}, account_id=None, key=f"noop:{i}")


def test_enqueueing_the_same_key_twice_makes_one_job(api: Api) -> None:
    with api.session() as session:
        first = enqueue(session, "delivery.send", {"message_id": 1}, account_id=None,
                        key="delivery.send:1")
        second = enqueue(session, "delivery.send", {"message_id": 1}, account_id=None,
                         key="delivery.send:1")
    assert first is not None and second is None


def test_a_dead_workers_job_is_taken_over_after_its_lease(api: Api) -> None:
    add_jobs(api, 1)
    factory = api.server.runtime.factory
    with unit_of_work(factory) as session:
        [taken] = claim(session, limit=5, lease_seconds=60)  # this worker then dies
    with unit_of_work(factory) as session:
        assert claim(session, limit=5, lease_seconds=60) == []  # still leased
    later = utcnow() + timedelta(seconds=61)
    with unit_of_work(factory) as session:
        [again] = claim(session, limit=5, lease_seconds=60, now=later)
    assert again.id == taken.id and again.attempts == 2


def test_concurrent_claimers_never_take_the_same_job(api: Api) -> None:
    add_jobs(api, 300)
    factory = api.server.runtime.factory
    taken: Counter[int] = Counter()
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with unit_of_work(factory) as session:
                jobs = claim(session, limit=7, lease_seconds=300)
            if not jobs:
                return
            with lock:
                taken.update(j.id for j in jobs)
            with unit_of_work(factory) as session:
                for job in jobs:
                    finish(session, job.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(taken) == 300
    assert max(taken.values()) == 1
    with api.session() as session:
        assert session.query(Job).count() == 0
