"""Canned responses: a placeholder the composer cannot fill is refused when the answer is
saved, with the ones it can fill named, so no customer ever reads "{{ contact.frist_name }}"."""

from __future__ import annotations

import httpx
import pytest

from clientcontact.canned.service import list_canned, save_canned
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http

KNOWN = "{{ contact.name }}, {{ contact.first_name }}, {{ agent.name }}, {{ agent.first_name }}"


@pytest.mark.parametrize("content", [
    "Hi {{ contact.frist_name }}!",
    "Hi {{customer}}!",
    "Hi {{ Contact.Name }}!",
    "Your order {{ order.number }} ships today, {{ contact.first_name }}.",
])
def test_an_unknown_placeholder_is_refused_naming_the_known_ones(ui: httpx.Client, api: Api,
                                                                 content: str) -> None:
    token = log_in_http(ui, api.alice)
    answer = ui.post("/admin/canned", headers=htmx(token),
                     data={"short_code": "hello", "content": content})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert message.startswith("unknown placeholder {{") and message.endswith(KNOWN)
    with api.session() as session:
        assert list_canned(session, api.alice.actor) == []


def test_changing_an_answer_to_an_unknown_placeholder_keeps_the_old_text(ui: httpx.Client,
                                                                         api: Api) -> None:
    with api.session() as session:
        canned_id = save_canned(session, api.alice.actor, short_code="hours",
                                content="Hi {{contact.first_name}}, we open at 10.").id
    token = log_in_http(ui, api.alice)
    answer = ui.post(f"/admin/canned/{canned_id}", headers=htmx(token),
                     data={"short_code": "hours", "content": "Hi {{ contact.nickname }}"})
    assert answer.status_code == 400
    assert "{{ contact.nickname }}" in answer.json()["error"]["message"]
    with api.session() as session:
        [kept] = list_canned(session, api.alice.actor)
        assert kept.content == "Hi {{contact.first_name}}, we open at 10."


def test_every_known_placeholder_and_plain_braces_are_accepted(ui: httpx.Client,
                                                               api: Api) -> None:
    token = log_in_http(ui, api.alice)
    content = ("{{contact.name}} {{ contact.first_name }} {{ agent.name}} {{agent.first_name }}"
               " — a { brace } and a lone {{ stay as typed")
    answer = ui.post("/admin/canned", headers=htmx(token),
                     data={"short_code": "all", "content": content})
    assert answer.status_code == 200 and "Save /all" in answer.text


def test_deleting_asks_first(ui: httpx.Client, api: Api) -> None:
    with api.session() as session:
        save_canned(session, api.alice.actor, short_code="hours", content="We open at 10.")
    log_in_http(ui, api.alice)
    page = ui.get("/admin/canned").text
    assert 'hx-confirm="Delete the canned response /hours?' in page
