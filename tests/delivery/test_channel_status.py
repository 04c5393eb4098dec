"""Channel status as an admin reads it: each inbox's provider and credentials, and whether its
delivery queue keeps up; in the API for one account, and from `clientcontact channels`."""

from __future__ import annotations

from typer.testing import CliRunner

from clientcontact.channels.base import ChannelKind
from clientcontact.cli import cli
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
