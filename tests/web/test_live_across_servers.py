"""Two web servers behind one load balancer: an agent streaming from one sees what an agent
does on the other, through Redis."""

from __future__ import annotations

import httpx

from tests.builders import customer_writes
from tests.harness import Api, AppServer
from tests.web.helpers import log_in_http


def test_a_note_added_on_one_server_streams_from_the_other(
        api: Api, two_servers: tuple[AppServer, AppServer]) -> None:
    one, other = two_servers
    thread = customer_writes(api, api.alice)
    with httpx.Client(base_url=other.base_url, timeout=10) as ui:
        log_in_http(ui, api.alice)
        with ui.stream("GET", "/events") as stream:
            lines = stream.iter_lines()
            assert [next(lines), next(lines)] == ["retry: 2000", "event: ready"]
            added = httpx.post(
                f"{one.base_url}/api/v1/conversations/{thread.conversation_id}/notes",
                json={"text": "seen on the other server"}, headers=api.alice.http.headers)
            assert added.status_code == 201
            for line in lines:
                if line == "event: message.created":
                    break
            assert f'"conversation_id": {thread.conversation_id}' in next(lines)
