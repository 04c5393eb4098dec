"""When the database refuses a batch of webhooks, each is written again on its own: the
genuine ones are stored and answered 2xx, and only the one the database refuses gets an
error (a 500, so its provider retries it later)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, select, text

from clientcontact.ingest.models import InboundEventRow
from tests.harness import Api
from tests.webhooks.batching import FALLBACK, genuine_sms, sent_together
from tests.webhooks.providers import twilio_inbox

REFUSED = "SMrefused"


@contextmanager
def database_refusing(engine: Engine, external_id: str) -> Iterator[None]:
    """A trigger that makes the database refuse one webhook's row, as a constraint, a full
    disk or a dropped connection would."""
    if engine.dialect.name == "postgresql":
        create = [
            "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the database'; END $$",
            "CREATE TRIGGER refuse_event BEFORE INSERT ON inbound_events FOR EACH ROW "
            f"WHEN (NEW.external_id = '{external_id}') EXECUTE FUNCTION refuse_event()"]
        drop = ["DROP TRIGGER refuse_event ON inbound_events", "DROP FUNCTION refuse_event"]
    else:
        create = [
            "CREATE TRIGGER refuse_event BEFORE INSERT ON inbound_events "
            f"WHEN NEW.external_id = '{external_id}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"]
        drop = ["DROP TRIGGER refuse_event"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))


def test_a_failed_batch_is_written_again_one_webhook_at_a_time(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    sms = twilio_inbox(api)
    with database_refusing(api.server.runtime.engine, REFUSED):
        answers = sent_together(api, sms, [
            lambda: genuine_sms(api, sms, "SMbefore"),
            lambda: genuine_sms(api, sms, REFUSED),
            lambda: genuine_sms(api, sms, "SMafter")])
    assert [answer.status_code for answer in answers] == [200, 500, 200]
    assert answers[1].json()["error"]["code"] == "internal_error"  # no stack trace
    # The three, and on SQLite perhaps the first webhook too (nothing says when it waits).
    assert re.search(r"a batch of [34] failed", caplog.text) and FALLBACK in caplog.text
    with api.session() as session:
        stored = session.scalars(select(InboundEventRow.external_id)
                                 .order_by(InboundEventRow.id)).all()
    assert sorted(stored) == ["SMafter", "SMbefore", "SMfirst"]
    api.run_worker()  # the stored ones are handled as usual
    with api.session() as session:
        assert all(session.scalars(select(InboundEventRow.handled_at)))
