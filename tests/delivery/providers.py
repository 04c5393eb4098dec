"""Each real provider as the delivery pipeline meets it in tests: the environment that selects
it (pointing its SDK at a loopback fake), how to read what the fake received, and how to make
the fake answer with a failure. One entry per provider; the stories in test_pipeline.py are
written once and told for each."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from clientcontact.channels.base import ChannelKind
from tests.fakes.scripted import ScriptedServer
from tests.fakes.sendgrid_api import FakeSendGrid, sendgrid_errors
from tests.fakes.ses_api import FakeSesApi
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio

INBOX_NUMBER = "+12127365000"
WHATSAPP_NUMBER = "+14155238886"
TIMEOUT_SECONDS = 1.0  # the providers' SDK timeout in these tests: a slow answer costs ~1 s
_MIME = BytesParser(policy=policy.default)


@dataclass(frozen=True)
class Delivered:
    """One send request as the provider saw it, in a shape every provider shares."""

    to: str
    text: str
    provider_id: str  # what the provider answered as the message's id
    fields: dict[str, Any]  # the provider's own form, JSON or headers, for detailed checks
    mail: EmailMessage | None = None


@dataclass(frozen=True)
class Failure:
    """A scripted answer and what the agent should then see."""

    script: Callable[[Any], None]
    code: str
    text: str = ""


@dataclass(frozen=True)
class Provider:
    name: str
    channel: ChannelKind
    start: Callable[[], Any]
    settings: Callable[[Any], dict[str, Any]]
    delivered: Callable[[Any], list[Delivered]]
    transient: Failure  # a 5xx-like answer: retried
    permanent: Failure  # refused for good: failed at once
    rate_limited: Callable[[Any, int], None] | None = None  # 429 with Retry-After: seconds
    slow: Callable[[Any, float], None] | None = None  # a success that arrives too late


def reset(fake: Any) -> None:
    if isinstance(fake, ScriptedServer):
        fake.requests.clear()
        fake.replies.clear()
    else:
        fake.received.clear()


# Twilio ---------------------------------------------------------------------------------------

def _twilio_delivered(fake: FakeTwilio) -> list[Delivered]:
    return [Delivered(to=r.form["To"][0], text=r.form.get("Body", [""])[0],
                      provider_id=json.loads(a.body).get("sid", "") if a.status == 201 else "",
                      fields={k: v[0] for k, v in r.form.items()})
            for r, a in zip(fake.requests, fake.replies, strict=True)
            if r.path.endswith("/Messages.json")]


TWILIO = Provider(
    name="twilio", channel=ChannelKind.SMS, start=lambda: FakeTwilio().start(),
    settings=lambda fake: {
        "sms_service": "twilio", "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token, "twilio_phone_number": INBOX_NUMBER,
        "twilio_whatsapp_number": WHATSAPP_NUMBER, "twilio_api_base_url": fake.url},
    delivered=_twilio_delivered,
    transient=Failure(lambda fake: fake.queue_error(20503, "Service Unavailable", 503), "20503"),
    permanent=Failure(
        lambda fake: fake.queue_error(21610, "Attempt to send to unsubscribed recipient"),
        "21610", "unsubscribed recipient"),
    rate_limited=lambda fake, seconds: fake.queue_error(
        20429, "Too Many Requests", 429, **{"Retry-After": str(seconds)}),
    slow=lambda fake, delay: fake.queue(201, {"sid": "SM" + "0" * 32}, delay=delay),
)


# SendGrid -------------------------------------------------------------------------------------

def _sendgrid_delivered(fake: FakeSendGrid) -> list[Delivered]:
    return [Delivered(to=r.json["personalizations"][0]["to"][0]["email"],
                      text=r.json["content"][0]["value"],
                      provider_id=a.headers.get("X-Message-Id", ""), fields=r.json)
            for r, a in zip(fake.requests, fake.replies, strict=True)
            if r.path == "/v3/mail/send"]


SENDGRID = Provider(
    name="sendgrid", channel=ChannelKind.EMAIL, start=lambda: FakeSendGrid().start(),
    settings=lambda fake: {"email_service": "sendgrid", "sendgrid_api_key": fake.api_key,
                           "sendgrid_api_host": fake.url},
    delivered=_sendgrid_delivered,
    transient=Failure(lambda fake: fake.queue(503, sendgrid_errors((None, "Unavailable"))),
                      "503"),
    permanent=Failure(
        lambda fake: fake.queue(400, sendgrid_errors(
            ("from.email", "The from address does not match a verified Sender Identity."))),
        "400", "from.email: The from address does not match a verified Sender Identity."),
    rate_limited=lambda fake, seconds: fake.queue(
        429, sendgrid_errors((None, "too many requests")), **{"Retry-After": str(seconds)}),
    slow=lambda fake, delay: fake.queue(202, delay=delay, **{"X-Message-Id": "slow"}),
)


# Amazon SES (the scriptable SES v2 fake; moto's SES has a story of its own) ---------------------

def _ses_delivered(fake: FakeSesApi) -> list[Delivered]:
    found = []
    for r, a in zip(fake.requests, fake.replies, strict=True):
        if r.path != "/v2/email/outbound-emails":
            continue
        mail = _MIME.parsebytes(base64.b64decode(r.json["Content"]["Raw"]["Data"]))
        body = mail.get_body(("plain",))
        found.append(Delivered(
            to=r.json["Destination"]["ToAddresses"][0],
            text=body.get_content() if body else "",
            provider_id=json.loads(a.body).get("MessageId", "") if a.status == 200 else "",
            fields=r.json, mail=mail))
    return found


SES = Provider(
    name="ses", channel=ChannelKind.EMAIL, start=lambda: FakeSesApi().start(),
    settings=lambda fake: {"email_service": "ses", "aws_ses_region": "us-east-1",
                           "aws_ses_access_key": fake.access_key,
                           "aws_ses_secret_key": "testing", "aws_ses_endpoint_url": fake.url},
    delivered=_ses_delivered,
    transient=Failure(lambda fake: fake.queue_error("ServiceUnavailable", "Unavailable", 503),
                      "ServiceUnavailable"),
    permanent=Failure(
        lambda fake: fake.queue_error("MessageRejected", "Email address is not verified."),
        "MessageRejected", "Email address is not verified."),
    slow=lambda fake, delay: fake.queue(200, {"MessageId": "slow"}, delay=delay),
)


# SMTP -----------------------------------------------------------------------------------------

def _smtp_delivered(fake: FakeSmtp) -> list[Delivered]:
    found = []
    for received in fake.received:
        mail = received.message
        body = mail.get_body(("plain",))
        found.append(Delivered(to=received.rcpt_tos[0], text=body.get_content() if body else "",
                               provider_id=str(mail["Message-ID"]), fields=dict(mail.items()),
                               mail=mail))
    return found


SMTP = Provider(
    name="smtp", channel=ChannelKind.EMAIL, start=lambda: FakeSmtp().start(),
    settings=lambda fake: {"email_service": "smtp", "smtp_host": fake.host,
                           "smtp_port": fake.port, "smtp_security": "none"},
    delivered=_smtp_delivered,
    transient=Failure(lambda fake: fake.fail_next("DATA", "451 4.7.1 Greylisted, come back"),
                      "451"),
    permanent=Failure(lambda fake: fake.fail_next("RCPT", "550 5.1.1 No such user here"),
                      "550", "550 5.1.1 No such user here"),
)

PROVIDERS: dict[str, Provider] = {p.name: p for p in (TWILIO, SENDGRID, SES, SMTP)}
