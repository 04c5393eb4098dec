"""Bodies and URLs that no provider sends, posted by a stranger: each is refused with a clear
4xx before it can fail the batch of webhooks it arrived with. A genuine webhook sent at the
same moment is stored and answered as usual, nothing of the bad one is stored, and the writer
never had to fall back to writing its batch one webhook at a time."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from clientcontact.conversations.models import Attachment
from clientcontact.ingest.models import InboundEventRow
from clientcontact.ingest.store import storable_id
from tests.harness import Api
from tests.signing import SendGridSigner
from tests.webhooks.batching import FALLBACK, genuine_sms, sent_together
from tests.webhooks.providers import (
    INBOUND_EMAIL,
    ProviderInbox,
    events,
    incoming,
    post,
    sendgrid_inbox,
    ses_inbox,
    twilio_inbox,
)

DEEP = 50_000
SNS_HEADERS = {"content-type": "text/plain; charset=UTF-8",
               "x-amz-sns-message-type": "Notification"}


def deeply_nested_sns() -> bytes:
    return (b'{"Type": "Notification", "MessageId": "m-1", "Message": '
            + b"[" * DEEP + b"]" * DEEP + b"}")


def sns_with_recipient(address: str) -> bytes:
    message = {"notificationType": "Received", "mail": {"destination": [address]},
               "receipt": {"recipients": [address]}}
    return json.dumps({"Type": "Notification", "MessageId": "m-2", "TopicArn": "arn:x",
                       "Message": json.dumps(message)}).encode()  # escaped: ASCII bytes


def inbound_parse(envelope: str, mail: str = "Subject: hi\r\n\r\nhi") -> tuple[
        bytes, dict[str, str]]:
    body = (f'--b\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n{envelope}\r\n'
            f'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n{mail}'
            f"\r\n--b--\r\n").encode()
    return body, {"content-type": "multipart/form-data; boundary=b"}


@dataclass(frozen=True)
class Poison:
    path: Callable[[ProviderInbox], str]  # given the test's SES inbox
    body: bytes
    headers: dict[str, str]
    status: int


POISONS = {
    "json nested 50,000 deep, shared SES path": Poison(
        lambda _: "/api/webhooks/email/ses", deeply_nested_sns(), SNS_HEADERS, 400),
    "json nested 50,000 deep, an SES inbox's own URL": Poison(
        lambda ses: ses.inbound_path, deeply_nested_sns(), SNS_HEADERS, 400),
    "json nested 50,000 deep, without SNS's header": Poison(
        lambda ses: ses.status_path, deeply_nested_sns(), {"content-type": "application/json"},
        400),
    "lone surrogate in an SES recipient": Poison(
        lambda _: "/api/webhooks/email/ses", sns_with_recipient("help\ud800@acme.test"),
        SNS_HEADERS, 400),
    "lone surrogate in SendGrid's envelope": Poison(
        lambda _: "/api/webhooks/email/sendgrid",
        *inbound_parse('{"to": ["help\\ud800@acme.test"], "from": "x@example.com"}'), 400),
    "NUL in SendGrid's envelope": Poison(
        lambda _: "/api/webhooks/email/sendgrid",
        *inbound_parse('{"to": ["help\\u0000@acme.test"], "from": "x@example.com"}'), 404),
    # A NUL anywhere in a path, and a path parameter past its bound, are refused for every
    # route before it runs (422); other keys no inbox can have are simply not found (404).
    "NUL as the inbox key": Poison(
        lambda _: "/api/webhooks/inboxes/%00/inbound", b"{}", {}, 422),
    "NUL inside the inbox key": Poison(
        lambda ses: ses.inbound_path.replace("/inbound", "%00/inbound"), b"{}", {}, 422),
    "a line break in the inbox key": Poison(
        lambda ses: ses.inbound_path.replace("/inbound", "%0A/inbound"), b"{}", {}, 404),
    "an invalid UTF-8 inbox key": Poison(
        lambda _: "/api/webhooks/inboxes/%ED%A0%80%FF/status", b"{}", {}, 404),
    "an inbox key longer than any": Poison(
        lambda _: f"/api/webhooks/inboxes/{'a' * 300}/inbound", b"{}", {}, 422),
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_a_poisoned_webhook_is_refused_alone_and_the_genuine_one_beside_it_is_stored(
        api: Api, poison: Poison, caplog: pytest.LogCaptureFixture) -> None:
    sms, ses = twilio_inbox(api), ses_inbox(api)
    bad, good = sent_together(api, sms, [
        lambda: post(api, poison.path(ses), poison.body, poison.headers),
        lambda: genuine_sms(api, sms, "SMgenuine")])
    assert (bad.status_code, good.status_code) == (poison.status, 200), bad.text
    assert bad.json()["error"]["message"]  # a clear word, never a stack trace
    with api.session() as session:
        stored = session.scalars(select(InboundEventRow.external_id)
                                 .order_by(InboundEventRow.id)).all()
    assert stored == ["SMfirst", "SMgenuine"]
    assert FALLBACK not in caplog.text


def test_an_id_no_text_column_can_hold_is_stored_as_its_digest() -> None:
    assert storable_id("SM\ud800").startswith("sha256:")
    assert storable_id("SM\x00").startswith("sha256:")
    assert storable_id("SM123") == "SM123"


def test_requests_with_poison_in_the_url_or_a_header_never_reach_the_app(api: Api) -> None:
    """The HTTP server refuses control characters in the request line and headers, so the
    stored URL and headers are always text a database can hold."""
    host, port = httpx.URL(api.server.base_url).host, httpx.URL(api.server.base_url).port
    for request in (b"POST /api/webhooks/sms/twilio?secret=a\x00b HTTP/1.1\r\n",
                    b"POST /api/webhooks/sms/twilio HTTP/1.1\r\nX-Poison: a\x00b\r\n"):
        with socket.create_connection((host, port or 80), timeout=5) as connection:
            connection.sendall(request + b"Host: x\r\nContent-Length: 0\r\n\r\n")
            assert connection.recv(64).startswith(b"HTTP/1.1 400")


UTF7_MAIL = """From: Maria <maria@example.org>\r
To: support@inbound.example.com\r
Subject: Photo\r
Message-ID: <utf7@example.org>\r
Content-Type: multipart/mixed; boundary="zz"\r
\r
--zz\r
Content-Type: text/plain; charset=utf-7\r
\r
Here it is +2AA-\r
--zz\r
Content-Type: image/png\r
Content-Disposition: attachment; filename*=utf-7''%2B2AA-.png\r
\r
png\r
--zz--\r
"""


def test_mail_whose_charset_decodes_to_lone_surrogates_still_reaches_the_agent(
        api: Api) -> None:
    """UTF-7 can spell a lone surrogate, which no database stores: anyone can send such a
    mail, and it must land (with U+FFFD), not fail its own handling."""
    signer = SendGridSigner()
    sendgrid_inbox(api, signer)
    body, headers = inbound_parse(json.dumps({"to": [INBOUND_EMAIL]}), UTF7_MAIL)
    response = post(api, "/api/webhooks/email/sendgrid", body,
                    {**headers, **signer.headers(body, datetime.now(UTC))})
    assert response.status_code == 200
    api.run_worker()
    [event] = events(api)
    assert (event.handled_at is not None, event.error) == (True, None)
    [mail] = incoming(api)
    assert mail.text == "Here it is \ufffd"
    with api.session() as session:
        assert session.scalars(select(Attachment.filename)).all() == ["\ufffd.png"]
