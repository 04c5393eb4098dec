"""Two workers meet a new sender at the same moment (PostgreSQL, several worker processes):
both messages must end on one contact, and neither job may fail on the unique key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from clientcontact.accounts import service as accounts
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.db.migrate import upgrade
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import create_inbox
from clientcontact.ingest.contact_match import sender_contact
from clientcontact.ingest.mail_facts import NO_MAIL_FACTS
from tests.harness import settings_for_tests
from tests.ingest.stories import text_message

SENDER = "+14155550188"


@pytest.fixture
def engine(postgres_databases: Callable[[], str]) -> Iterator[Engine]:
    engine = create_engine(postgres_databases())
    upgrade(engine)
    yield engine
    engine.dispose()


def _inbox(factory: sessionmaker[Session]) -> int:
    with factory.begin() as session:
        account = accounts.create_account(session, "Racing")
        inbox = create_inbox(session, Actor(account_id=account.id), name="SMS",
                             channel=ChannelKind.SMS, provider="mock", address="+15005550006")
        return inbox.id


def _blocked_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()")))


def test_a_sender_created_by_two_workers_at_once_is_one_contact(engine: Engine,
                                                                tmp_path: object) -> None:
    factory = sessionmaker(engine, expire_on_commit=False)
    settings = settings_for_tests(database_url=engine.url.render_as_string(hide_password=False),
                                  data_dir=tmp_path)
    inbox_id = _inbox(factory)
    first = factory()
    found: dict[str, int] = {}

    def second_worker() -> None:
        with factory.begin() as session:
            inbox = session.get_one(Inbox, inbox_id)
            contact = sender_contact(session, inbox, text_message("Me too", sender=SENDER),
                                     settings=settings, facts=NO_MAIL_FACTS)
            found["second"] = contact.id

    # The first worker has created the contact but not committed yet...
    inbox = first.get_one(Inbox, inbox_id)
    found["first"] = sender_contact(first, inbox, text_message("Hello", sender=SENDER),
                                    settings=settings, facts=NO_MAIL_FACTS).id
    # ...when the second looks, finds nobody, and waits on the unique key to insert its own.
    racer = threading.Thread(target=second_worker)
    racer.start()
    deadline = time.monotonic() + 10
    while not _blocked_on_a_lock(engine):
        assert time.monotonic() < deadline, "the second worker never reached the unique key"
        time.sleep(0.05)
    first.commit()
    first.close()
    racer.join(10)
    assert not racer.is_alive()
    assert found["second"] == found["first"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(ContactIdentity)) == 1
