"""The UI's forms and addresses refuse what no database can store with a 4xx, as the API does:
a NUL in any field, an address longer than an identity holds, an id beyond 64 bits."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http

TOO_BIG = 2**63


@pytest.fixture
def token(ui: httpx.Client, api: Api) -> str:
    return log_in_http(ui, api.alice)


def test_a_nul_character_in_any_form_field_is_refused(ui: httpx.Client, api: Api,
                                                      token: str) -> None:
    thread = customer_writes(api, api.alice)
    response = ui.post(f"/contacts/{thread.contact_id}", headers=htmx(token),
                       data={"name": "Maria\x00", "identities": "maria@example.org"})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "name must not contain a NUL character"


def test_the_contact_form_keeps_the_apis_limits_on_addresses(ui: httpx.Client, api: Api,
                                                            token: str) -> None:
    thread = customer_writes(api, api.alice)
    url = f"/contacts/{thread.contact_id}"
    too_long = ui.post(url, headers=htmx(token),
                       data={"identities": "maria@example.org\n" + "x" * 400})
    assert too_long.status_code == 422
    assert "at most 320 characters" in too_long.json()["error"]["message"]
    too_many = ui.post(url, headers=htmx(token),
                       data={"identities": "\n".join(f"maria{n}" for n in range(51))})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["message"] == "a contact has at most 50 addresses"


def test_an_id_beyond_64_bits_in_a_page_address_is_not_found(ui: httpx.Client,
                                                             token: str) -> None:
    for path in (f"/conversations/{TOO_BIG}", f"/contacts/{TOO_BIG}/panel"):
        assert ui.get(path, headers=htmx(token)).status_code == 404, path
    assert ui.get(f"/?inbox={TOO_BIG}&team={TOO_BIG}").status_code == 200


def test_switching_to_an_account_id_beyond_64_bits_is_refused(ui: httpx.Client, api: Api,
                                                              token: str) -> None:
    answer = ui.post("/account/switch", data={"account_id": str(TOO_BIG)}, headers=htmx(token))
    assert answer.status_code == 403
    assert ui.get("/api/v1/me").json()["account_id"] == api.alice.actor.account_id
