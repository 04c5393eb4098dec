"""Twilio's Messages and Accounts API on loopback, answering in Twilio's own JSON.

Shapes follow https://www.twilio.com/docs/messaging/api/message-resource: form-encoded POST in,
`201` with the Message resource out; errors as `{code, message, more_info, status}`.
"""

from __future__ import annotations

import base64
import re
import uuid
from email.utils import formatdate
from typing import Any

from .scripted import ReceivedRequest, Reply, ScriptedServer

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)\.json$")


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


class FakeTwilio(ScriptedServer):
    """One Twilio account: `account_sid` and `auth_token` are the credentials it accepts."""

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token") -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token

    @property
    def sent(self) -> list[dict[str, list[str]]]:
        """The form of every message-create request received, in order."""
        return [r.form for r in self.requests if _MESSAGES.match(r.path)]

    def queue_error(self, code: int, message: str, status: int = 400, **headers: str) -> None:
        self.queue(status, twilio_error(code, message, status), **headers)

    def answer(self, request: ReceivedRequest) -> Reply:
        if not self._authenticated(request):
            return Reply.of_json(401, twilio_error(20003, "Authenticate", 401),
                                 **{"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if request.method == "POST" and (match := _MESSAGES.match(request.path)):
            return Reply.of_json(201, self._message(match["sid"], request.form))
        if request.method == "GET" and (match := _ACCOUNT.match(request.path)):
            return Reply.of_json(200, self._account(match["sid"]))
        return Reply.of_json(404, twilio_error(20404, "The requested resource was not found", 404))

    def _authenticated(self, request: ReceivedRequest) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _message(self, account_sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            return form.get(name, [None])[0]

        media = form.get("MediaUrl", [])
        sid = ("MM" if media else "SM") + uuid.uuid4().hex
        service = one("MessagingServiceSid")
        now = formatdate(usegmt=True)
        return {
            "sid": sid, "account_sid": account_sid, "messaging_service_sid": service,
            "to": one("To"), "from": one("From"), "body": one("Body") or "",
            "status": "accepted" if service else "queued", "direction": "outbound-api",
            "num_segments": "1", "num_media": str(len(media)), "price": None,
            "price_unit": "USD", "error_code": None, "error_message": None,
            "api_version": "2010-04-01", "date_created": now, "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        }

    def _account(self, account_sid: str) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        return {
            "sid": account_sid, "owner_account_sid": account_sid,
            "friendly_name": "ClientContact test account", "status": "active", "type": "Full",
            "date_created": now, "date_updated": now, "auth_token": self.auth_token,
            "uri": f"/2010-04-01/Accounts/{account_sid}.json",
            "subresource_uris": {
                "messages": f"/2010-04-01/Accounts/{account_sid}/Messages.json"},
        }
