"""WhatsApp's 24-hour window as an agent meets it: free-form replies while the customer's last
message is less than a day old, an approved template after that (or to write first)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clientcontact.channels.base import ChannelKind
from clientcontact.db.base import utcnow
from tests.builders import customer_writes, inbox_id
from tests.harness import Api

TEMPLATE = {"content_sid": "HX" + "0123456789abcdef" * 2, "variables": {"1": "Maria"}}


def whatsapp_thread(api: Api, *, hours_ago: float):
    return customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP,
                           text="Is my order ready?", at=utcnow() - timedelta(hours=hours_ago))


def post_reply(api: Api, conversation_id: int, **body):
    return api.alice.http.post(f"/api/v1/conversations/{conversation_id}/messages", json=body)


def test_the_conversation_says_until_when_the_window_is_open(api: Api) -> None:
    thread = whatsapp_thread(api, hours_ago=3)
    conversation = api.alice.http.get(f"/api/v1/conversations/{thread.conversation_id}").json()
    assert conversation["whatsapp_window_open"] is True
    until = datetime.fromisoformat(conversation["whatsapp_window_open_until"])
    assert timedelta(hours=20, minutes=59) < until - utcnow() <= timedelta(hours=21)


def test_other_channels_have_no_window(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    conversation = api.alice.http.get(f"/api/v1/conversations/{thread.conversation_id}").json()
    assert conversation["whatsapp_window_open"] is None
    assert conversation["whatsapp_window_open_until"] is None


def test_a_free_form_reply_inside_the_window_is_queued(api: Api) -> None:
    thread = whatsapp_thread(api, hours_ago=23)
    response = post_reply(api, thread.conversation_id, text="Yes, it is ready for pickup.")
    assert response.status_code == 201, response.text


def test_a_free_form_reply_after_the_window_is_refused_with_when_and_what_to_do(api: Api) -> None:
    thread = whatsapp_thread(api, hours_ago=30)
    response = post_reply(api, thread.conversation_id, text="Still interested?")

    assert response.status_code == 422
    error = response.json()["error"]
    closed = utcnow() - timedelta(hours=6)
    assert f"window closed at {closed:%Y-%m-%d %H:}" in error["message"]
    assert "template" in error["message"]
    messages = api.alice.http.get(
        f"/api/v1/conversations/{thread.conversation_id}/messages").json()["messages"]
    assert [m["direction"] for m in messages] == ["in"]  # nothing was queued


def test_an_approved_template_goes_out_after_the_window(api: Api) -> None:
    thread = whatsapp_thread(api, hours_ago=30)
    response = post_reply(api, thread.conversation_id, template=TEMPLATE)
    assert response.status_code == 201, response.text
    assert response.json()["template"] == TEMPLATE

    api.run_worker()

    [sent] = api.alice.http.get("/api/v1/dev/outbox").json()
    assert sent["template"] == TEMPLATE and sent["channel"] == "whatsapp"


def test_writing_first_on_whatsapp_needs_a_template(api: Api) -> None:
    contact = api.alice.http.post("/api/v1/contacts", json={
        "name": "Priya", "identities": [{"kind": "phone", "value": "+447911123456"}]}).json()
    start = {"inbox_id": inbox_id(api, api.alice, ChannelKind.WHATSAPP),
             "contact_id": contact["id"]}

    refused = api.alice.http.post("/api/v1/conversations", json={**start, "text": "Hello!"})
    assert refused.status_code == 422
    assert "has not written on WhatsApp yet" in refused.json()["error"]["message"]

    started = api.alice.http.post("/api/v1/conversations", json={**start, "template": TEMPLATE})
    assert started.status_code == 201, started.text
    assert started.json()["whatsapp_window_open"] is False


def test_a_template_is_only_for_whatsapp(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    response = post_reply(api, thread.conversation_id, text="Hi", template=TEMPLATE)
    assert response.status_code == 422
    assert "only be sent on WhatsApp" in response.json()["error"]["message"]


def test_a_content_sid_must_look_like_one(api: Api) -> None:
    thread = whatsapp_thread(api, hours_ago=30)
    response = post_reply(api, thread.conversation_id,
                          template={"content_sid": "my-template", "variables": {}})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.template.content_sid"
