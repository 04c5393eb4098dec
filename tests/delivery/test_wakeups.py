"""An idle worker starts on a reply as soon as it is committed, not at its next poll: inside
the server (the embedded default) and in `clientcontact worker` processes on PostgreSQL. Every
worker here polls only every POLL_SECONDS, so a reply that arrives within a few seconds was
woken for; the poll still finds work whose wake-up was lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from clientcontact.db.base import utcnow
from clientcontact.jobs.models import Job
from clientcontact.jobs.wakeups import APPLICATION_NAME
from tests.builders import customer_writes
from tests.delivery.test_workers import Workers, wait_for
from tests.fakes.sendgrid_api import FakeSendGrid
from tests.harness import Api, AppServer, make_personas

POLL_SECONDS = 30  # far longer than any wait below: only a wake-up can explain a quick send
QUICKLY = 5.0  # generous for a loaded machine; an idle worker takes milliseconds


def reply(api: Api, text: str = "Your refund is on its way.") -> float:
    """Post a reply as an agent; returns when the API answered (monotonic seconds)."""
    thread = customer_writes(api, api.alice)
    response = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                   json={"text": text})
    assert response.status_code == 201, response.text
    return time.monotonic()


def seconds_until_sent(fake: FakeSendGrid, count: int, since: float, *, within: float) -> float:
    wait_for(lambda: len(fake.sent) >= count, within=within, what=f"{count} send(s)")
    return time.monotonic() - since


@pytest.fixture
def sendgrid(loopback_only: None) -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def embedded(request: pytest.FixtureRequest, sendgrid: FakeSendGrid,
             tmp_path: Path) -> Iterator[Api]:
    """`clientcontact serve` as a laptop runs it: the worker is a thread of the server."""
    url = (f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_databases")())
    server = AppServer.start(database_url=url, data_dir=tmp_path / "data",
                             run_worker_in_process=True, worker_poll_seconds=POLL_SECONDS,
                             email_service="sendgrid", sendgrid_api_key=sendgrid.api_key,
                             sendgrid_api_host=sendgrid.url)
    yield Api(server, make_personas(server))
    server.stop()


@pytest.fixture
def workers(postgres_databases: Callable[[], str], sendgrid: FakeSendGrid,
            tmp_path: Path) -> Iterator[Workers]:
    """A server without a worker, and worker processes beside it that poll only rarely."""
    server = AppServer.start(database_url=postgres_databases(), data_dir=tmp_path / "data",
                             email_service="sendgrid", sendgrid_api_key=sendgrid.api_key,
                             sendgrid_api_host=sendgrid.url)
    group = Workers(Api(server, make_personas(server)), sendgrid, tmp_path)
    group.env["WORKER_POLL_SECONDS"] = str(POLL_SECONDS)
    yield group
    group.stop_all()
    server.stop()


def listener_pids(api: Api) -> set[int]:
    with api.session() as session:
        return set(session.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                 "AND datname = current_database() AND query LIKE 'LISTEN%'"),
            {"name": APPLICATION_NAME}))


def start_idle_worker(workers: Workers) -> set[int]:
    """A worker that has started, found nothing to do and listens; its listeners' pids."""
    workers.start()
    return wait_for(lambda: listener_pids(workers.api), within=60, what="the worker to listen")


def test_an_idle_embedded_worker_sends_a_reply_at_once(embedded: Api,
                                                       sendgrid: FakeSendGrid) -> None:
    time.sleep(0.5)  # the worker has polled once and sleeps
    posted = reply(embedded)
    assert seconds_until_sent(sendgrid, 1, posted, within=POLL_SECONDS) < QUICKLY


def test_a_retry_goes_when_its_retry_after_ends_not_at_the_next_poll(
        embedded: Api, sendgrid: FakeSendGrid) -> None:
    sendgrid.queue(429, {"errors": [{"message": "too many requests"}]}, **{"Retry-After": "1"})
    posted = reply(embedded)
    assert seconds_until_sent(sendgrid, 2, posted, within=POLL_SECONDS) < 1 + QUICKLY


def test_an_idle_worker_process_sends_a_reply_at_once(workers: Workers) -> None:
    start_idle_worker(workers)
    posted = reply(workers.api)
    assert seconds_until_sent(workers.fake, 1, posted, within=POLL_SECONDS) < QUICKLY


def test_a_worker_whose_wake_up_connection_drops_listens_again(workers: Workers) -> None:
    api = workers.api
    [first] = start_idle_worker(workers)
    with api.session() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    wait_for(lambda: listener_pids(api) - {first}, within=POLL_SECONDS / 2,
             what="the worker to listen again")

    posted = reply(api)
    assert seconds_until_sent(workers.fake, 1, posted, within=POLL_SECONDS) < QUICKLY


def test_work_whose_wake_up_was_lost_is_found_by_the_poll(workers: Workers) -> None:
    api = workers.api
    workers.env["WORKER_POLL_SECONDS"] = "1"
    reply(api)
    with api.session() as session:  # due only tomorrow: a worker woken now finds nothing
        session.execute(update(Job).values(run_after=utcnow() + timedelta(days=1)))
    start_idle_worker(workers)
    time.sleep(1.5)
    assert workers.fake.sent == []

    with api.session() as session:  # due now, with no NOTIFY: nothing wakes the worker
        session.execute(update(Job).values(run_after=utcnow()))
        assert session.scalar(select(Job.id)) is not None
    moved = time.monotonic()
    assert seconds_until_sent(workers.fake, 1, moved, within=1 + QUICKLY) < 1 + QUICKLY
