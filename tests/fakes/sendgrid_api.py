"""SendGrid's v3 Mail Send and Scopes API on loopback, answering in SendGrid's own shapes.

https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send: JSON in, `202` with an
empty body and `X-Message-Id` out; errors as `{"errors": [{"message", "field", "help"}]}`.
"""

from __future__ import annotations

import secrets
from typing import Any

from .scripted import ReceivedRequest, Reply, ScriptedServer

UNAUTHORIZED = {"errors": [{"field": None, "help": None, "message": (
    "The provided authorization grant is invalid, expired, or revoked")}]}


def sendgrid_errors(*problems: tuple[str | None, str]) -> dict[str, Any]:
    """An error body from (field, message) pairs."""
    return {"errors": [{"field": field, "message": message, "help": None}
                       for field, message in problems]}


class FakeSendGrid(ScriptedServer):
    """One SendGrid account: `api_key` is the key it accepts, `scopes` what that key may do."""

    def __init__(self, api_key: str = "SG.test-key", scopes: tuple[str, ...] = (
            "mail.send", "scopes.read")) -> None:
        super().__init__()
        self.api_key = api_key
        self.scopes = list(scopes)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The JSON body of every mail-send request received, in order."""
        return [r.json for r in self.requests if r.path == "/v3/mail/send"]

    def answer(self, request: ReceivedRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply.of_json(401, UNAUTHORIZED)
        if (request.method, request.path) == ("POST", "/v3/mail/send"):
            problems = _missing(request.json)
            if problems:
                return Reply.of_json(400, sendgrid_errors(*problems))
            return Reply(202, b"", {"X-Message-Id": secrets.token_urlsafe(16)})
        if (request.method, request.path) == ("GET", "/v3/scopes"):
            return Reply.of_json(200, {"scopes": self.scopes})
        return Reply.of_json(404, sendgrid_errors((None, "resource not found")))


def _missing(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    """The few validations SendGrid always makes, enough to catch a malformed request."""
    required = {
        "personalizations": "The personalizations field is required and must have at least one "
                            "personalization.",
        "from": "The from object must be provided for every email send.",
        "content": "Unless a valid template_id is provided, the content parameter is required.",
    }
    return [(name, message) for name, message in required.items() if not body.get(name)]
