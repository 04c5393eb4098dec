"""What a worker keeps between jobs: each inbox's adapter (an SDK client and its connections),
and how many jobs it runs at once."""

from __future__ import annotations

from sqlalchemy import update

from clientcontact.channels.base import ChannelKind
from clientcontact.inboxes.models import Inbox
from tests.builders import inbox_id
from tests.harness import Api


def load_inbox(api: Api, channel: ChannelKind) -> Inbox:
    with api.session() as session:
        inbox = session.get(Inbox, inbox_id(api, api.alice, channel))
        assert inbox is not None
        return inbox


def test_an_inboxs_adapter_is_built_once_and_again_when_its_credentials_change(api: Api) -> None:
    runtime = api.server.runtime.runner.runtime
    inbox = load_inbox(api, ChannelKind.EMAIL)

    first = runtime.adapter(inbox)
    assert runtime.adapter(load_inbox(api, ChannelKind.EMAIL)) is first
    assert runtime.adapter(load_inbox(api, ChannelKind.SMS)) is not first

    sealed = runtime.adapters.box.seal({"note": "rotated"})
    with api.session() as session:
        session.execute(update(Inbox).where(Inbox.id == inbox.id)
                        .values(credentials_encrypted=sealed))
    assert runtime.adapter(load_inbox(api, ChannelKind.EMAIL)) is not first


def test_a_postgresql_worker_runs_four_jobs_at_once_and_a_sqlite_one_a_single(api: Api) -> None:
    runtime = api.server.runtime.runner.runtime
    expected = {"postgresql": 4, "sqlite": 1}[api.server.runtime.engine.dialect.name]
    assert runtime.concurrency == expected
