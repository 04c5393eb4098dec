"""Channel status as an admin reads it: each inbox's provider and credentials, and whether its
delivery queue keeps up; in the API for one account, and from `clientcontact channels`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, insert
from typer.testing import CliRunner

from clientcontact.channels.base import ChannelKind, DeliveryStatus
from clientcontact.cli import cli
from clientcontact.conversations.models import Direction, Message, MessageKind
from clientcontact.db.base import utcnow
from clientcontact.delivery.channel_status import queue_figures
from clientcontact.inboxes.service import create_inbox
from tests.builders import customer_writes
from tests.harness import Api


def statuses(api: Api, person=None) -> dict[str, dict]:
    response = (person or api.alice).http.get("/api/v1/channels/status")
    assert response.status_code == 200, response.text
    return {s["name"]: s for s in response.json()}


def test_each_inbox_of_the_account_is_listed_with_its_queue(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                        json={"text": "First"})

    waiting = statuses(api)["Email"]
    assert set(statuses(api)) == {"Email", "SMS", "WhatsApp"}
    assert waiting["provider"] == "mock" and waiting["configured"] is True
    assert waiting["credentials_valid"] is None  # the mock has none to prove
    assert waiting["queue_depth"] == 1 and waiting["oldest_queued_age_seconds"] >= 0
    assert waiting["last_sent_at"] is None

    api.run_worker()

    sent = statuses(api)["Email"]
    assert sent["queue_depth"] == 0 and sent["oldest_queued_age_seconds"] is None
    assert sent["last_sent_at"] is not None and sent["failures_last_hour"] == 0


def test_failures_of_the_last_hour_are_counted(api: Api) -> None:
    thread = customer_writes(api, api.alice, address="bounce@example.com")
    api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                        json={"text": "Hello"})
    api.run_worker()
    assert statuses(api)["Email"]["failures_last_hour"] == 1


def test_another_accounts_inboxes_are_not_shown(api: Api) -> None:
    assert set(statuses(api, api.carol)) == {"Globex email", "Globex sms"}


def test_an_inbox_without_credentials_is_not_configured(api: Api) -> None:
    with api.session() as session:
        create_inbox(session, api.alice.actor, name="Sales SMS", channel=ChannelKind.SMS,
                     provider="twilio", address="+12125550123")  # no keys, none in the env

    sales = statuses(api)["Sales SMS"]

    assert sales["configured"] is False and sales["credentials_valid"] is False
    assert "has no account_sid, auth_token configured" in sales["detail"]


def test_the_cli_prints_the_same_figures_as_a_table(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                        json={"text": "First"})
    settings = api.settings

    result = CliRunner().invoke(cli, ["channels", "--account", str(api.alice.actor.account_id)],
                                env={"DATABASE_URL": settings.resolved_database_url,
                                     "DATA_DIR": str(settings.data_dir),
                                     "SECRET_KEY": "test-secret-key"})

    assert result.exit_code == 0, result.output
    heading, _rule, *rows = result.output.splitlines()[:5]
    assert heading.split()[:4] == ["account", "inbox", "channel", "provider"]
    email = next(row for row in rows if " Email " in row)
    assert " mock " in email and " yes " in email and " never " in email
    assert email.split()[-4] == "1"  # queued


def test_an_inbox_with_a_long_history_is_measured_by_its_queue_not_its_history(
        api: Api) -> None:
    """Thousands of messages sent long ago: the queue figures still read only what waits,
    what failed lately and the last send. On PostgreSQL we count the message rows the query
    touches; SQLite tells us its plan, which must look messages up by index, never scan."""
    thread = customer_writes(api, api.alice)
    long_ago = utcnow() - timedelta(days=400)
    with api.session() as session:
        session.execute(insert(Message.__table__), [
            {"account_id": api.alice.actor.account_id, "conversation_id": thread.conversation_id,
             "inbox_id": thread.inbox_id, "direction": Direction.OUT, "kind": MessageKind.MESSAGE,
             "status": DeliveryStatus.SENT, "text": f"Update {n}", "created_at": long_ago,
             "sent_at": long_ago + timedelta(seconds=n)} for n in range(3000)])
    api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                        json={"text": "Still there?"})
    engine = api.server.runtime.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE messages")

    with capture_statements(engine) as statements, api.session() as session:
        figures = queue_figures(session, api.alice.actor.account_id)

    email = figures[thread.inbox_id]
    assert email.queue_depth == 1 and email.failures_last_hour == 0
    assert email.last_sent_at == long_ago + timedelta(seconds=2999)
    [(statement, parameters)] = statements
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            plan = connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar_one()
            assert message_rows_touched(plan[0]["Plan"]) < 50
        else:
            steps = [row.detail for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters)]
            reads = [step for step in steps if " messages " in f"{step} "]
            assert reads and all(step.startswith("SEARCH messages USING") and
                                 "INDEX ix_messages_inbox_" in step for step in reads), steps


@contextmanager
def capture_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The queries sent to the database while the block runs, with their parameters
    (transaction control such as SQLite's BEGIN IMMEDIATE left out)."""
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def message_rows_touched(node: dict[str, Any]) -> float:
    """Rows of `messages` a PostgreSQL plan read, kept or filtered out, over all its loops."""
    own = 0.0
    if node.get("Relation Name") == "messages":
        own = node["Actual Loops"] * (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                                      + node.get("Rows Removed by Index Recheck", 0))
    return own + sum(message_rows_touched(child) for child in node.get("Plans", []))
