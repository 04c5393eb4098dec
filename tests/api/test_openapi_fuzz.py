"""Property-based fuzzing of every operation in /openapi.json against the real app on loopback,
on both engines: valid and invalid requests (huge ids, NUL characters, lone surrogates, nulls,
long lists) never give a 5xx, and every answer is one the document promises, with the body
it describes.

Schemathesis generates the requests from the app's document, with a fixed seed and a bounded
number of examples per operation, so a run is repeatable and takes a few minutes. Requests carry
Alice's API token (an admin's, so admin-only operations are fuzzed too). Nothing is excluded.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from clientcontact.accounts import service as accounts
from clientcontact.app import create_app
from tests.builders import customer_writes
from tests.harness import Api, settings_for_tests

EXAMPLES_PER_OPERATION = 25
CONFIG = schemathesis.Config.from_dict({
    "seed": 20261204,
    "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION,
                   "deterministic": True},
})
# What we assert. Not asserted: positive_data_acceptance (schema-valid input must succeed),
# because a schema cannot say which ids exist or which text is a real email address or phone
# number, so a 400/404/409/422 for those is right; unsupported_method (an undeclared method
# must be a 405), because /contacts/find is also a /contacts/{contact_id}, so PATCH on it
# reaches that route and is a 422 for its id.
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance, negative_data_rejection,
          allow_header_conformance]


def _document(data_dir: Path) -> dict[str, Any]:
    """The app's document, built at collection time so that each operation is a test of its
    own (the test below checks that the server serves the same)."""
    return create_app(settings_for_tests(data_dir=data_dir)).openapi()


schema = schemathesis.openapi.from_dict(_document(Path(tempfile.mkdtemp())), config=CONFIG)


class AliceToken:
    """Alice's API token (no CSRF needed); fuzzing may revoke it, so a new one is issued then."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.header = api.alice.http.headers["Authorization"]

    def renew(self) -> None:
        with self.api.session() as session:
            _, token = accounts.create_api_token(session, self.api.alice.actor, "fuzzing")
        self.header = f"Bearer {token}"


@pytest.fixture
def alice(api: Api) -> AliceToken:
    """Some data for the ids the fuzzer tries (ids start at 1 again for every test)."""
    customer_writes(api, api.alice)
    return AliceToken(api)


@schema.parametrize()
# The server and its data are meant to outlive each example, as a real server's do.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.filter_too_much],
          deadline=None)
def test_no_server_error_and_every_answer_as_documented(case: schemathesis.Case,
                                                        alice: AliceToken, api: Api) -> None:
    response = case.call(base_url=api.server.base_url, headers={"Authorization": alice.header})
    if case.path == "/api/v1/api-tokens/{token_id}" and response.status_code == 200:
        alice.renew()  # the example may have revoked the token it was sent with
    case.validate_response(response, checks=CHECKS)


def test_the_fuzzed_document_is_the_one_served(api: Api) -> None:
    served = httpx.get(f"{api.server.base_url}/openapi.json").json()
    assert served == schema.raw_schema
