"""Everything a running process shares, built once from settings: the database, the event bus,
the file store, provider credentials and the job runner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clientcontact.accounts.login import Logins
from clientcontact.accounts.login_throttle import login_throttle
from clientcontact.channels.base import ChannelAdapter
from clientcontact.channels.registry import AdapterContext
from clientcontact.db.engine import make_engine
from clientcontact.db.write_turns import take_turns_to_write
from clientcontact.demo import DEMO_PASSWORD
from clientcontact.files.storage import LocalFileStore
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.secrets import CredentialBox
from clientcontact.jobs.registry import BATCH_HANDLERS, HANDLERS
from clientcontact.jobs.runner import JobRunner, WorkerRuntime
from clientcontact.realtime.bus import EventBus, InProcessBus
from clientcontact.realtime.redis_bus import RedisBus
from clientcontact.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: EventBus
    store: LocalFileStore
    adapters: AdapterContext
    runner: JobRunner
    logins: Logins

    def adapter(self, inbox: Inbox) -> ChannelAdapter:
        """The inbox's adapter from the process's one cache, shared by the web side (webhooks)
        and the worker: built once per inbox and credentials, so a changed secret is used at
        once and an unchanged one is not decrypted again for every request."""
        return self.runner.runtime.adapter(inbox)


def build_runtime(settings: Settings, *, bus: EventBus | None = None) -> Runtime:
    engine = make_engine(settings.resolved_database_url)
    if engine.dialect.name == "sqlite":  # one write lock: the intake and the worker take turns
        take_turns_to_write(engine)
    # Several servers need Redis to hear each other's events; one process does not.
    bus = bus or (RedisBus(settings.redis_url, prefix=settings.redis_key("events:"))
                  if settings.redis_url else InProcessBus())
    box = CredentialBox(settings.resolved_secret_key())
    adapters = AdapterContext(settings=settings, box=box)
    store = LocalFileStore(settings.data_dir / "files")
    # Sessions carry the bus and the worker's wake-up so services can publish after commit.
    factory = sessionmaker(engine, expire_on_commit=False, info={"bus": bus})
    runner = JobRunner(WorkerRuntime(factory, settings, adapters, store), HANDLERS,
                       BATCH_HANDLERS)
    factory.kw["info"]["wake_worker"] = runner.wake
    throttle = login_throttle(settings.redis_url, settings.redis_key("login-failures:"))
    logins = Logins(throttle, refused_passwords=frozenset(
        () if settings.demo_deployment else (DEMO_PASSWORD,)))
    return Runtime(settings, engine, factory, bus, store, adapters, runner, logins)
