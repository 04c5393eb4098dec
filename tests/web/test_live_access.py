"""An open live stream ends when its login no longer opens the account: logged out, the
password changed elsewhere, deactivated, removed from the account, or the session gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import delete

from clientcontact.accounts.members import remove_member, set_active
from clientcontact.accounts.models import LoginSession
from clientcontact.web.events import RECHECK_SECONDS
from tests.builders import customer_writes
from tests.harness import PASSWORD, Api, AppServer
from tests.web.helpers import htmx, log_in_http


@contextmanager
def live(client: httpx.Client) -> Iterator[Iterator[str]]:
    """The lines of an open /events stream, from after its `ready` event."""
    with client.stream("GET", "/events", timeout=RECHECK_SECONDS + 5) as stream:
        lines = stream.iter_lines()
        assert [next(lines), next(lines)] == ["retry: 2000", "event: ready"]
        yield lines


def until_closed(lines: Iterator[str], within: float = 5.0) -> list[str]:
    """Read the stream to its end, failing if it stays open longer than `within`."""
    deadline, seen = time.monotonic() + within, []
    for line in lines:
        seen.append(line)
        assert time.monotonic() < deadline, f"the stream stayed open: {seen}"
    return seen


def test_logging_out_closes_the_stream(ui: httpx.Client, api: Api) -> None:
    token = log_in_http(ui, api.alice)
    with live(ui) as stream:
        assert ui.post("/logout", headers=htmx(token)).status_code == 303
        assert "event: access-ended" in until_closed(stream)
    assert ui.get("/events").status_code == 303  # and it cannot come back


def test_a_password_changed_elsewhere_closes_the_stream(ui: httpx.Client, api: Api) -> None:
    log_in_http(ui, api.bob)
    with httpx.Client(base_url=api.server.base_url) as phone, live(ui) as stream:
        token = log_in_http(phone, api.bob)
        changed = phone.post("/account/password", headers=htmx(token), data={
            "current": PASSWORD, "new": "bobs-new-password", "repeat": "bobs-new-password"})
        assert changed.status_code == 303
        assert "event: access-ended" in until_closed(stream)


def test_deactivating_an_agent_closes_their_stream(ui: httpx.Client, api: Api) -> None:
    log_in_http(ui, api.bob)
    with live(ui) as stream:
        with api.session() as session:
            set_active(session, api.alice.actor, api.bob.agent_id, False)
        assert "event: access-ended" in until_closed(stream)


def test_removing_a_member_closes_their_stream_and_not_the_others(ui: httpx.Client,
                                                                  api: Api) -> None:
    log_in_http(ui, api.bob)
    with httpx.Client(base_url=api.server.base_url) as alice:
        log_in_http(alice, api.alice)
        with live(alice) as alices, live(ui) as bobs:
            with api.session() as session:
                remove_member(session, api.alice.actor, api.bob.agent_id)
            assert "event: access-ended" in until_closed(bobs)
            customer_writes(api, api.alice)
            assert "event: conversation.created" in alices  # hers goes on


def test_a_session_gone_without_a_word_closes_the_stream_within_seconds(
        ui: httpx.Client, api: Api) -> None:
    log_in_http(ui, api.bob)
    with live(ui) as stream:
        with api.session() as session:  # as an expiry or an operator would: no event
            session.execute(delete(LoginSession).where(LoginSession.agent_id == api.bob.agent_id))
        assert "event: access-ended" in until_closed(stream, within=RECHECK_SECONDS + 3)


def test_removal_on_one_server_closes_the_stream_on_another(
        api: Api, two_servers: tuple[AppServer, AppServer]) -> None:
    one, other = two_servers
    with httpx.Client(base_url=other.base_url) as bob:
        log_in_http(bob, api.bob)
        with live(bob) as stream:
            removed = httpx.delete(f"{one.base_url}/api/v1/agents/{api.bob.agent_id}",
                                   headers=api.alice.http.headers)
            assert removed.status_code == 204
            assert "event: access-ended" in until_closed(stream, within=3.0)
