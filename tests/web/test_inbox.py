"""The inbox list and the conversation screen, read as HTML: what an agent sees."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import insert

from clientcontact.canned.service import save_canned
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.service import get_contact
from clientcontact.conversations.inbound import IncomingContent, add_incoming
from clientcontact.conversations.models import Conversation
from clientcontact.db.base import utcnow
from tests.builders import customer_writes
from tests.harness import Api
from tests.web.helpers import htmx, log_in_http


def _rows(html: str) -> list[str]:
    return re.findall(r'class="conversation-row[^"]*" *\n? *data-conversation-id="(\d+)"', html)


def _unread(html: str) -> list[str]:
    return re.findall(r'class="conversation-row unread[^"]*" *\n? *data-conversation-id="(\d+)"',
                      html)


def test_a_conversation_is_unread_until_opened_and_again_when_the_customer_writes(
        ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    log_in_http(ui, api.alice)
    assert _unread(ui.get("/").text) == [str(thread.conversation_id)]
    ui.get(f"/conversations/{thread.conversation_id}")
    assert _unread(ui.get("/").text) == []
    with api.session() as session:
        conversation = session.get(Conversation, thread.conversation_id)
        contact = get_contact(session, api.alice.actor, thread.contact_id)
        add_incoming(session, conversation, contact, IncomingContent(
            text="Any news?", received_at=utcnow() + timedelta(seconds=1)))
    assert _unread(ui.get("/").text) == [str(thread.conversation_id)]


def test_views_count_mine_unassigned_and_all(ui: httpx.Client, api: Api) -> None:
    mine = customer_writes(api, api.alice, subject="Mine")
    customer_writes(api, api.alice, subject="Nobody's", address="tom@example.org")
    token = log_in_http(ui, api.alice)
    ui.post(f"/conversations/{mine.conversation_id}/update",
            data={"assignee_id": str(api.alice.agent_id)}, headers=htmx(token))
    page = ui.get("/").text
    counts = dict(re.findall(r'\n\s*(Mine|Unassigned|All) <span class="count"[^>]*>(\d+)<', page))
    assert counts == {"Mine": "1", "Unassigned": "1", "All": "2"}
    assert _rows(ui.get("/?view=mine").text) == [str(mine.conversation_id)]
    assert "(1) " not in page  # the badge is the page script's job; the count is in the page
    assert 'data-unread-mine="1"' in page


def test_a_view_past_a_thousand_says_999_plus(ui: httpx.Client, api: Api) -> None:
    """Counting stops at 1,000 so the list stays fast on a big account; it says so."""
    first = customer_writes(api, api.alice, subject="The first of many")
    with api.session() as session:
        one = session.get_one(Conversation, first.conversation_id)
        session.execute(insert(Conversation), [
            {"account_id": one.account_id, "inbox_id": one.inbox_id, "contact_id": one.contact_id,
             "subject": f"Order {n}", "reply_token": f"bulk{n:016d}", "created_at": one.created_at,
             "last_activity_at": one.last_activity_at, "last_inbound_at": one.last_inbound_at,
             "assignee_id": api.alice.agent_id if n < 120 else None} for n in range(999)])
    log_in_http(ui, api.alice)
    page = ui.get("/").text
    counts = dict(re.findall(r'\n\s*(Mine|Unassigned|All) <span class="count"[^>]*>([\d+]+)<',
                             page))
    assert counts == {"Mine": "120", "Unassigned": "880", "All": "999+"}
    assert 'data-unread-mine="99+"' in page


def test_search_finds_contacts_by_name_address_and_subject(ui: httpx.Client, api: Api) -> None:
    maria = customer_writes(api, api.alice, name="Maria Garcia", subject="Broken lamp")
    tom = customer_writes(api, api.alice, name="Tom Becker", address="tom@becker.example",
                          subject="Invoice 100%")
    log_in_http(ui, api.alice)
    assert _rows(ui.get("/", params={"q": "garc"}).text) == [str(maria.conversation_id)]
    assert _rows(ui.get("/", params={"q": "BECKER.EX"}).text) == [str(tom.conversation_id)]
    assert _rows(ui.get("/", params={"q": "lamp"}).text) == [str(maria.conversation_id)]
    assert _rows(ui.get("/", params={"q": "100%"}).text) == [str(tom.conversation_id)]
    assert _rows(ui.get("/", params={"q": "0%"}).text) == [str(tom.conversation_id)]
    assert _rows(ui.get("/", params={"q": "%"}).text) == [str(tom.conversation_id)]


def test_filters_and_paging(ui: httpx.Client, api: Api) -> None:
    for number in range(30):
        customer_writes(api, api.alice, channel=ChannelKind.SMS, name=f"Texter {number}",
                        address=f"+1415555{number:04d}")
    customer_writes(api, api.alice, subject="By email")
    token = log_in_http(ui, api.alice)
    sms = ui.get("/inbox/list", params={"channel": "sms"}, headers=htmx(token))
    assert sms.headers["hx-push-url"] == "/?channel=sms"
    first = _rows(sms.text)
    assert len(first) == 25
    cursor = re.search(r'/inbox/more\?([^"]+)"', sms.text)
    assert cursor is not None
    more = _rows(ui.get("/inbox/more?" + cursor.group(1).replace("&amp;", "&")).text)
    assert len(more) == 5 and not set(more) & set(first)
    assert len(_rows(ui.get("/", params={"channel": "email"}).text)) == 1


def test_the_composer_offers_canned_responses_filled_in(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice, name="Maria Garcia")
    with api.session() as session:
        save_canned(session, api.alice.actor, short_code="thanks",
                    content="Hi {{ contact.first_name }}, {{agent.first_name}} here.")
    log_in_http(ui, api.alice)
    page = ui.get(f"/conversations/{thread.conversation_id}").text
    assert '<option value="Hi Maria, Alice here.">/thanks</option>' in page
    assert 'data-code="thanks" data-text="Hi Maria, Alice here."' in page  # typing /thanks


def test_a_reply_with_an_attachment_and_a_snooze(ui: httpx.Client, api: Api) -> None:
    thread = customer_writes(api, api.alice)
    token = log_in_http(ui, api.alice)
    answer = ui.post(f"/conversations/{thread.conversation_id}/compose",
                     data={"mode": "reply", "text": "Label attached"},
                     files={"attachments": ("label.pdf", b"%PDF-1.4", "application/pdf")},
                     headers=htmx(token))
    assert answer.status_code == 200 and answer.headers["hx-trigger"] == "thread-changed"
    thread_html = ui.get(f"/conversations/{thread.conversation_id}/messages").text
    assert "label.pdf" in thread_html and "Queued" in thread_html
    answer = ui.post(f"/conversations/{thread.conversation_id}/update", headers=htmx(token),
                     data={"status": "snoozed", "snoozed_until": "2099-01-02T09:00",
                           "tz_offset": "-60"})
    assert "snoozed until 2099-01-02 08:00 UTC" in answer.text


def test_the_event_stream_tells_the_page_what_changed(ui: httpx.Client, api: Api) -> None:
    log_in_http(ui, api.alice)
    with ui.stream("GET", "/events", timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        assert [next(lines), next(lines)] == ["event: ready", "data: {}"]  # heard from now on
        thread = customer_writes(api, api.alice)
        seen = []
        for line in lines:
            seen.append(line)
            if line.startswith("data:") and "message.created" in seen[-2]:
                break
    assert "event: conversation.created" in seen
    assert f'data: {{"conversation_id": {thread.conversation_id}}}' in seen
