"""Stories of mail no one should answer automatically: auto-replies, bulk mail and bounces."""

from __future__ import annotations

import pytest

from tests.builders import customer_writes
from tests.harness import Api
from tests.ingest.stories import (
    SUPPORT,
    agent_replies,
    email,
    mail,
    messages_in,
    resolve,
    route,
)

AUTOMATIC_HEADERS = [
    {"Auto-Submitted": "auto-replied"},
    {"X-Autoreply": "yes"},
    {"Precedence": "bulk"},
    {"Precedence": "list"},
    {"Precedence": "junk"},
    {"X-Auto-Response-Suppress": "All"},
]


def delivery_report(original_message_id: str, *, action: str = "failed", status: str = "5.1.1",
                    sender: str = "Mail Delivery System <MAILER-DAEMON@mx.example.org>") -> bytes:
    """A Postfix-style RFC 3464 report quoting the headers of the mail it returns."""
    return f"""\
From: {sender}
To: {SUPPORT}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <bounce-{status}-{action}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; maria@example.org
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 <maria@example.org>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: Acme Support <{SUPPORT}>
To: maria@example.org
Subject: Re: Damaged order
Message-ID: {original_message_id}

--B--
""".replace("\n", "\r\n").encode()


@pytest.mark.parametrize("header", AUTOMATIC_HEADERS, ids=lambda h: "=".join(*h.items()))
def test_an_auto_reply_is_flagged(api: Api, header: dict[str, str]) -> None:
    message = route(api, email(mail(subject="Out of office", headers=header)))

    assert message.extra["auto_submitted"] is True
    shown = api.alice.http.get(f"/api/v1/messages/{message.id}").json()
    assert shown["auto_submitted"] is True


def test_a_person_writing_is_not_flagged(api: Api) -> None:
    message = route(api, email(mail(headers={"Auto-Submitted": "no"})))

    assert "auto_submitted" not in message.extra
    assert api.alice.http.get(f"/api/v1/messages/{message.id}").json()["auto_submitted"] is False


def test_a_bounce_fails_the_message_it_reports(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    ours = agent_replies(api, thread.conversation_id)
    assert ours["status"] == "sent"

    routed = route(api, email(delivery_report(ours["email_message_id"])))

    assert routed.id == ours["id"]  # the bounce is news about our message, not a new one
    shown = api.alice.http.get(f"/api/v1/messages/{ours['id']}").json()
    assert shown["status"] == "failed"
    assert shown["error_code"] == "5.1.1"
    assert "Recipient address rejected" in shown["error_text"]
    assert [m["direction"] for m in messages_in(api, thread.conversation_id)] == ["in", "out"]


def test_a_delay_notice_changes_nothing_yet(api: Api) -> None:
    thread = customer_writes(api, api.alice)
    ours = agent_replies(api, thread.conversation_id)

    route(api, email(delivery_report(ours["email_message_id"], action="delayed",
                                     status="4.4.1")))

    assert api.alice.http.get(f"/api/v1/messages/{ours['id']}").json()["status"] == "sent"


def test_a_bounce_about_mail_we_never_sent_is_kept_flagged(api: Api) -> None:
    routed = route(api, email(delivery_report("<someone-elses@mail.example.net>")))

    assert routed.direction == "in"
    assert routed.extra["auto_submitted"] is True
    assert routed.extra["bounce"]["status"] == "5.1.1"
    assert routed.extra["bounce"]["original_message_id"] == "<someone-elses@mail.example.net>"


def test_a_bounce_without_any_sender_address_still_reaches_an_agent(api: Api) -> None:
    report = delivery_report("<unknown@mail.example.net>", sender='"" (Mail Delivery System)')

    routed = route(api, email(report))

    assert routed.contact_addresses == ["email:unknown-sender"]
    assert routed.extra["auto_submitted"] is True


def test_an_out_of_office_reply_does_not_reopen_a_resolved_conversation(api: Api) -> None:
    thread = customer_writes(api, api.alice, email_message_id="<first@mail.example.org>")
    resolve(api, thread.conversation_id, days_ago=1)

    message = route(api, email(mail(subject="Out of office: Damaged order",
                                    in_reply_to="<first@mail.example.org>",
                                    references=["<first@mail.example.org>"],
                                    headers={"Auto-Submitted": "auto-replied"})))

    assert message.conversation_id == thread.conversation_id
    assert message.conversation_status == "resolved"
