"""The composer's WhatsApp template form, over plain HTTP: the server checks it as the REST API
checks a `template`, and says what is wrong."""

from __future__ import annotations

from datetime import timedelta

import httpx

from clientcontact.channels.base import ChannelKind
from clientcontact.conversations.models import Message
from clientcontact.db.base import utcnow
from clientcontact.web.screens import used_templates
from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http

SID = "HX" + "a1" * 16


def closed_window(api: Api) -> int:
    return customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP, name="Omar Haddad",
                           address="+14155550177", text="Still there?",
                           at=utcnow() - timedelta(days=2)).conversation_id


def test_a_closed_window_offers_the_template_form(ui: httpx.Client, api: Api) -> None:
    conversation_id = closed_window(api)
    log_in_http(ui, api.alice)
    page = ui.get(f"/conversations/{conversation_id}").text
    assert "WhatsApp window closed" in page
    assert 'name="content_sid"' in page and 'name="variable_value"' in page
    assert 'id="composer-text" name="text" rows="4" aria-keyshortcuts="r" disabled' in page
    assert "used-templates" not in page  # nothing sent before: no suggestions


def test_a_free_form_reply_is_refused_and_a_bad_sid_explained(ui: httpx.Client,
                                                              api: Api) -> None:
    conversation_id = closed_window(api)
    token = log_in_http(ui, api.alice)
    url = f"/conversations/{conversation_id}/compose"
    refused = ui.post(url, data={"mode": "reply", "text": "hello"}, headers=htmx(token))
    assert refused.status_code == 422 and "window closed at" in refused.json()["error"]["message"]
    bad = ui.post(url, data={"mode": "reply", "content_sid": "HX123", "variable_name": "1",
                             "variable_value": "Omar"}, headers=htmx(token))
    assert bad.status_code == 422
    assert "Content SID must be HX" in bad.json()["error"]["message"]
    nameless = ui.post(url, data={"mode": "reply", "content_sid": SID, "variable_name": "",
                                  "variable_value": "Omar"}, headers=htmx(token))
    assert nameless.status_code == 422 and "number" in nameless.json()["error"]["message"]


def test_a_template_is_queued_and_offered_again(ui: httpx.Client, api: Api) -> None:
    conversation_id = closed_window(api)
    token = log_in_http(ui, api.alice)
    sent = ui.post(f"/conversations/{conversation_id}/compose", headers=htmx(token), data={
        "mode": "reply", "content_sid": SID, "variable_name": ["1", "2", ""],
        "variable_value": ["Omar", "Friday", ""]})
    assert sent.status_code == 200, sent.text
    assert f'<option value="{SID}">' in sent.text  # the fresh composer suggests it
    with api.session() as session:
        message = session.query(Message).filter_by(conversation_id=conversation_id,
                                                   direction="out").one()
        assert message.status == "queued"
        assert message.extra["template"] == {"content_sid": SID,
                                             "variables": {"1": "Omar", "2": "Friday"}}
    thread = ui.get(f"/conversations/{conversation_id}").text
    assert f"Template <code>{SID}</code>" in thread
    with api.session() as session:  # another account is never offered this one's templates
        assert used_templates(session, api.alice.actor) == [SID]
        assert used_templates(session, api.carol.actor) == []


def test_a_template_on_another_channel_is_refused(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS)
    token = log_in_http(ui, api.alice)
    refused = ui.post(f"/conversations/{thread.conversation_id}/compose", headers=htmx(token),
                      data={"mode": "reply", "content_sid": SID})
    assert refused.status_code == 422
    assert "only be sent on WhatsApp" in refused.json()["error"]["message"]
