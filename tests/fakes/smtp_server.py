"""An SMTP server on loopback (aiosmtpd) that records what it accepts and can be told to refuse.

`fail_next("RCPT", "550 5.1.1 No such user")` makes the next RCPT TO get that answer, as a real
server would for an unknown mailbox; "451 …" at DATA is a greylisting server. With credentials,
AUTH is offered without TLS (a test convenience) and checked; without, there is no AUTH.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .certificates import LoopbackCertificate


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with the stdlib, as a receiving client sees it


class FakeSmtp:
    def __init__(self, credentials: tuple[str, str] | None = None, *,
                 security: Literal["starttls", "tls", "none"] = "none",
                 certificate: LoopbackCertificate | None = None) -> None:
        self.received: list[ReceivedMail] = []
        self.credentials = credentials
        self.security = security
        self._refusals: dict[str, deque[str]] = defaultdict(deque)
        self._refused_recipients: dict[str, str] = {}
        self._lock = threading.Lock()
        auth: dict[str, Any] = (
            {"authenticator": self._authenticate, "auth_require_tls": False}
            if credentials else {}
        )
        tls: dict[str, Any] = {}
        if certificate is not None and security == "starttls":
            tls = {"tls_context": certificate.server_context(), "require_starttls": True}
        elif certificate is not None and security == "tls":
            tls = {"ssl_context": certificate.server_context()}
        self.client_ssl_context = certificate.client_context() if certificate else None
        self._controller = Controller(self, hostname="127.0.0.1", port=_free_port(),
                                      **auth, **tls)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def fail_next(self, command: str, reply: str) -> None:
        """The next `command` ("MAIL", "RCPT" or "DATA") gets `reply` instead of 250."""
        with self._lock:
            self._refusals[command.upper()].append(reply)

    def refuse_recipient(self, address: str, reply: str) -> None:
        """Every RCPT TO for `address` gets `reply`, like a server that knows no such user."""
        self._refused_recipients[address.lower()] = reply

    def _refusal(self, command: str) -> str | None:
        with self._lock:
            queue = self._refusals[command]
            return queue.popleft() if queue else None

    # aiosmtpd handler hooks

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        refusal = self._refusal("MAIL")
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self._refused_recipients.get(address.lower()) or self._refusal("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refusal = self._refusal("DATA")
        if refusal:
            return refusal
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self._lock:
            self.received.append(
                ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.credentials == (
            auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
