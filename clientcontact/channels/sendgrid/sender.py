"""Sending email through SendGrid's v3 Mail Send API, with every failure classified.

We keep our own Message-ID: SendGrid reserves x-sg-id, x-sg-eid, Received, DKIM-Signature,
Content-Type, Content-Transfer-Encoding, To, From, Subject, Reply-To, CC and BCC as headers, but
not Message-ID, In-Reply-To or References, so the customer's client threads on ours. The
X-Message-Id SendGrid answers with is what its Event Webhook names (`sg_message_id` starts with
it); our own message id also travels in `custom_args` for the same purpose.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from time import time
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from clientcontact.channels.base import (
    Attachment,
    ChannelStatus,
    DeliveryFailure,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from clientcontact.channels.email_build import capped_references, text_to_html
from clientcontact.channels.provider_calls import call_in_thread, retry_after_seconds, timed_out
from clientcontact.content.sanitize import html_to_text

DEFAULT_HOST = "https://api.sendgrid.com"
# https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/responses
STATUS_KINDS: dict[int, type[DeliveryFailure]] = {
    400: PermanentFailure,  # the request is malformed (the errors say which field)
    401: PermanentFailure,  # the API key is wrong or revoked
    403: PermanentFailure,  # sender identity not verified, or the key lacks mail.send
    404: PermanentFailure,
    408: TransientFailure,
    413: PermanentFailure,  # the message (attachments) exceeds 30 MB
    429: TransientFailure,  # rate limited; X-RateLimit-Reset says until when
}


class SendGridSender:
    """SendGrid's send half for one inbox; built from that inbox's own API key."""

    provider = "sendgrid"

    def __init__(self, api_key: str, *, host: str | None = None, timeout: float = 15.0) -> None:
        self.timeout = timeout
        self._client = SendGridAPIClient(api_key=api_key, host=(host or DEFAULT_HOST).rstrip("/"))

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one email to SendGrid; X-Message-Id is the id its events will carry."""
        domain = message.from_address.rpartition("@")[2] or "localhost"
        message_id = message.email_message_id or f"<{uuid.uuid4()}@{domain}>"
        body = mail_body(message, message_id=message_id)
        response = await self._run(
            lambda: self._client.client.mail.send.post(request_body=body, timeout=self.timeout)
        )
        external_id = response.headers.get("X-Message-Id") or ""
        return SendResult(external_id=external_id, email_message_id=message_id)

    async def check(self) -> ChannelStatus:
        """List the key's scopes: proves the key and that it may send mail."""
        try:
            response = await self._run(
                lambda: self._client.client.scopes.get(timeout=self.timeout)
            )
        except PermanentFailure as failure:
            return ChannelStatus(True, False, f"SendGrid refused the API key: {failure.text}")
        except TransientFailure as failure:
            return ChannelStatus(True, None, f"SendGrid could not be reached: {failure.text}")
        scopes = json.loads(response.body or b"{}").get("scopes", [])
        if "mail.send" not in scopes:
            return ChannelStatus(True, False, "the SendGrid API key lacks the mail.send scope")
        return ChannelStatus(True, True, "SendGrid API key may send mail")

    async def _run(self, call: Callable[[], Any]) -> Any:
        return await call_in_thread(
            lambda: self._classified(call), provider="SendGrid", timeout=self.timeout
        )

    def _classified(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except HTTPError as exc:
            raise _failure(exc) from exc
        except TimeoutError as exc:
            raise timed_out("SendGrid", self.timeout) from exc
        except URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise timed_out("SendGrid", self.timeout) from exc
            raise _unreachable(exc.reason) from exc
        except OSError as exc:
            raise _unreachable(exc) from exc


def mail_body(message: OutboundMessage, *, message_id: str) -> dict[str, Any]:
    """The v3 Mail Send JSON for one reply: plain text first, then HTML, as SendGrid requires."""
    text = message.text or (html_to_text(message.html) if message.html else "")
    personalization: dict[str, Any] = {"to": [_address(message.to, message.to_name)]}
    cc = [c for c in dict.fromkeys(message.cc) if c.lower() != message.to.lower()]
    if cc:  # SendGrid refuses an address that appears twice across to, cc and bcc
        personalization["cc"] = [{"email": c} for c in cc]
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": _address(message.from_address, message.from_name),
        "subject": message.subject or "",
        "content": [
            {"type": "text/plain", "value": text or " "},
            {"type": "text/html", "value": message.html or text_to_html(text)},
        ],
        "custom_args": {"clientcontact_message_id": str(message.message_id)},
    }
    if message.reply_to:
        body["reply_to"] = {"email": message.reply_to}
    body["headers"] = _threading_headers(message, message_id)
    if message.attachments:
        body["attachments"] = [_attachment(a) for a in message.attachments]
    return body


def _threading_headers(message: OutboundMessage, message_id: str) -> dict[str, str]:
    references = capped_references((*message.references, message.in_reply_to or ""))
    headers = {
        "Message-ID": message_id,
        "In-Reply-To": message.in_reply_to,
        "References": " ".join(references),
    }
    return {name: value for name, value in headers.items() if value}


def _address(email: str, name: str | None) -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _attachment(item: Attachment) -> dict[str, str]:
    inline = item.inline and item.content_id
    entry = {
        "content": base64.b64encode(item.data).decode("ascii"),
        "type": item.content_type,
        "filename": item.filename,
        "disposition": "inline" if inline else "attachment",
    }
    if inline:
        entry["content_id"] = item.content_id.strip("<>")
    return entry


def _failure(exc: HTTPError) -> DeliveryFailure:
    status = int(exc.status_code)
    kind = STATUS_KINDS.get(status) or (TransientFailure if status >= 500 else PermanentFailure)
    text = _error_text(exc.body) or f"HTTP {status} {exc.reason}"
    if kind is TransientFailure:
        return TransientFailure(text, code=str(status), retry_after=_retry_after(exc.headers))
    return PermanentFailure(text, code=str(status))


def _error_text(body: bytes | None) -> str:
    """SendGrid's messages joined, each with the field it is about."""
    try:
        errors = json.loads(body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        return ""
    return "; ".join(
        f"{e['field']}: {e.get('message', '')}" if e.get("field") else str(e.get("message", ""))
        for e in errors
        if isinstance(e, dict)
    )


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait: Retry-After when given, else SendGrid's X-RateLimit-Reset (epoch)."""
    if headers is None:
        return None
    retry_after = headers.get("Retry-After")
    if retry_after:
        return retry_after_seconds(retry_after)
    reset = headers.get("X-RateLimit-Reset")
    return max(0.0, float(reset) - time()) if reset and reset.strip().isdigit() else None


def _unreachable(reason: object) -> TransientFailure:
    return TransientFailure(f"SendGrid unreachable: {reason}", code="connection")
