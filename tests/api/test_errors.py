"""Bad input gets a clear 4xx; a failure never shows a stack trace and carries a request id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clientcontact.app import create_app
from tests.builders import customer_writes
from tests.harness import Api, AppServer, settings_for_tests


class TestBadInput:
    def test_malformed_json_is_a_400_that_says_so(self, api: Api) -> None:
        response = api.alice.http.post("/api/v1/contacts", content=b"{name: ",
                                       headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "the request body is not valid JSON"

    def test_validation_errors_name_the_field(self, api: Api) -> None:
        response = api.alice.http.post("/api/v1/contacts", json={"identities": []})
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["details"][0]["field"] == "body.identities"
        assert error["message"].startswith("body.identities:")

    def test_unknown_fields_are_refused_rather_than_ignored(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        response = api.alice.http.patch(f"/api/v1/conversations/{thread.conversation_id}",
                                        json={"stauts": "resolved"})
        assert response.status_code == 422
        assert "stauts" in response.json()["error"]["message"]

    def test_unknown_id_is_404(self, api: Api) -> None:
        response = api.alice.http.get("/api/v1/conversations/999999")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "conversation 999999 not found"

    def test_a_method_a_path_lacks_is_405_listing_every_method_it_has(self, api: Api) -> None:
        response = api.alice.http.delete("/api/v1/contacts")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"

    def test_every_answer_carries_a_request_id(self, api: Api) -> None:
        response = api.alice.http.get("/api/v1/conversations/999999",
                                      headers={"X-Request-ID": "trace-me-42"})
        assert response.headers["x-request-id"] == "trace-me-42"
        assert response.json()["error"]["request_id"] == "trace-me-42"


class TestBodyLimit:
    @pytest.fixture(scope="class")
    @classmethod
    def small_limit(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        data_dir = tmp_path_factory.mktemp("limit")
        server = AppServer.start(database_url=f"sqlite:///{data_dir / 'db.sqlite'}",
                                 data_dir=data_dir, max_request_bytes=1000)
        yield server.base_url
        server.stop()

    def test_a_declared_oversized_body_is_413_before_it_is_read(self, small_limit: str) -> None:
        response = httpx.post(f"{small_limit}/api/v1/auth/login", content=b"x" * 5000,
                              headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert "larger than the limit of 1000 bytes" in response.json()["error"]["message"]

    def test_a_streamed_oversized_body_is_413(self, small_limit: str) -> None:
        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
            for _ in range(10):
                yield b"x" * 500

        response = httpx.post(f"{small_limit}/api/v1/auth/login", content=chunks(),
                              headers={"Content-Type": "application/json"})
        assert response.status_code == 413


class TestUnexpectedFailure:
    def test_a_500_shows_no_stack_trace_and_is_logged_with_its_request_id(
            self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        app = create_app(settings_for_tests(data_dir=tmp_path))

        @app.get("/boom")  # a route that fails the way a bug would
        def boom() -> None:
            raise RuntimeError("secret internals")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        with caplog.at_level(logging.ERROR, logger="clientcontact.errors"):
            response = asyncio.run(_get(transport, "/boom", {"X-Request-ID": "req-500"}))
        assert response.status_code == 500
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
        assert response.json()["error"]["request_id"] == "req-500"
        assert "req-500" in caplog.text and "secret internals" in caplog.text


def test_docs_list_the_api(api: Api) -> None:
    spec = httpx.get(f"{api.server.base_url}/openapi.json").json()
    for path in ("/api/v1/conversations", "/api/v1/conversations/{conversation_id}/messages",
                 "/api/v1/contacts/find", "/api/v1/messages/{message_id}/retry"):
        assert path in spec["paths"]
    assert httpx.get(f"{api.server.base_url}/docs").status_code == 200


async def _get(transport: httpx.ASGITransport, path: str,
               headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get(path, headers=headers)
