"""Sending email through any SMTP server (self-hosted, Gmail, Microsoft 365, SES SMTP, …).

Our MIME leaves untouched, so our Message-ID is the one the customer's client threads on. The
server's reply code classifies a refusal: 4xx means try again later, 5xx means it never will.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from typing import Literal

from clientcontact.channels.base import (
    ChannelStatus,
    DeliveryFailure,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from clientcontact.channels.email_mime import build_email
from clientcontact.channels.provider_calls import call_in_thread

Security = Literal["starttls", "tls", "none"]

# The first digit of the reply code decides (RFC 5321 §4.2.1).
REPLY_CLASS_KINDS: dict[int, type[DeliveryFailure]] = {
    4: TransientFailure,  # e.g. 421 closing, 451 greylisted, 452 mailbox full for now
    5: PermanentFailure,  # e.g. 550 no such user, 552 too large, 554 rejected as spam
}
# What a refusal means when smtplib cannot tell us a reply code.
ERROR_KINDS: dict[type[Exception], tuple[type[DeliveryFailure], str]] = {
    smtplib.SMTPServerDisconnected: (TransientFailure, "connection"),
    smtplib.SMTPNotSupportedError: (PermanentFailure, "unsupported"),  # e.g. no STARTTLS
    ssl.SSLError: (PermanentFailure, "tls"),  # certificate or protocol mismatch
    TimeoutError: (TransientFailure, "timeout"),
    OSError: (TransientFailure, "connection"),  # refused, unreachable, DNS
}


class SmtpSender:
    """SMTP's send half for one inbox; one connection per message, closed afterwards."""

    provider = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.security = security
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one email to the server; our Message-ID is also the external id."""
        domain = message.from_address.rpartition("@")[2] or "localhost"
        mail = build_email(message, domain=domain)
        message_id = str(mail["Message-ID"])
        recipients = [message.to, *(c for c in message.cc if c.lower() != message.to.lower())]

        def deliver(smtp: smtplib.SMTP) -> None:
            refused = smtp.send_message(mail, message.from_address, recipients)
            if message.to in refused:  # accepted for a cc only: retrying would send it twice
                code, reply = refused[message.to]
                raise PermanentFailure(
                    f"{message.to} refused ({_text(reply)}); delivered to cc only",
                    code=str(code),
                )

        await self._run(deliver)
        return SendResult(external_id=message_id, email_message_id=message_id)

    async def check(self) -> ChannelStatus:
        """Connect, greet (and log in): the server is reachable and takes our credentials."""
        try:
            await self._run(lambda smtp: None)
        except PermanentFailure as failure:
            return ChannelStatus(True, False, f"SMTP server refused us: {failure.text}")
        except TransientFailure as failure:
            return ChannelStatus(True, None, f"SMTP server unreachable: {failure.text}")
        auth = f" as {self.username}" if self.username else ""
        return ChannelStatus(True, True, f"connected to {self.host}:{self.port}{auth}")

    async def _run(self, action: Callable[[smtplib.SMTP], None]) -> None:
        await call_in_thread(
            lambda: self._session(action), provider="SMTP server", timeout=self.timeout
        )

    def _session(self, action: Callable[[smtplib.SMTP], None]) -> None:
        """One SMTP session: connect, secure, authenticate, act, quit; every error classified."""
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if self.security == "starttls":
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                action(smtp)
        except DeliveryFailure:
            raise
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            code, reply = next(iter(exc.recipients.values()))
            raise _refusal(code, reply) from exc
        except smtplib.SMTPResponseException as exc:  # MAIL, DATA, AUTH, … refused
            raise _refusal(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _unexplained(exc) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def _refusal(code: int, reply: bytes | str) -> DeliveryFailure:
    kind = REPLY_CLASS_KINDS.get(code // 100, PermanentFailure)
    return kind(f"{code} {_text(reply)}", code=str(code))


def _unexplained(exc: BaseException) -> DeliveryFailure:
    # smtplib reports a read timeout as "server disconnected"; the socket error says why.
    origin = exc.__context__ if isinstance(exc.__context__, OSError) else exc
    kind, code = next(
        (found for error, found in ERROR_KINDS.items() if isinstance(origin, error)),
        (TransientFailure, "connection"),
    )
    return kind(f"{type(exc).__name__}: {exc}", code=code)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
