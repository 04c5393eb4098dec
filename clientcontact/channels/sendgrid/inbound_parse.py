"""SendGrid Inbound Parse: mail posted to us as multipart/form-data, in either of its two modes.

Raw mode posts the whole MIME message in `email`; parsed mode posts the header block, the decoded
text and HTML (in the charsets named by `charsets`) and each attachment as a file. Parsed mode is
rebuilt into MIME from those pieces, so both modes go through the one mail parser and agents see
the same thing whichever mode an inbox was set up with. The SMTP envelope, not the To header,
says which of our addresses the mail was for.

https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from clientcontact.channels.base import (
    Acknowledgement,
    ChannelKind,
    InboundEvent,
    RawRequest,
    Recipient,
)
from clientcontact.channels.email_headers import decode_bytes
from clientcontact.channels.email_mime import inbound_message_from_mime
from clientcontact.channels.json_payload import load_json
from clientcontact.channels.sendgrid.signature import Clock, SignedWebhookVerifier, utc_now
from clientcontact.errors import BadPayload, Unauthenticated

HANDLED: frozenset[str] = frozenset({"raw", "parsed"})
IGNORED: dict[str, str] = {}

# The original's MIME structure is gone in parsed mode; ours replaces it.
_STRUCTURAL_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}
# Rebuilt as base64 parts, an attached message/* or multipart/* would no longer parse as one.
_OPAQUE_MAINTYPES = {"message", "multipart", ""}
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class FormPart:
    data: bytes
    filename: str | None = None
    content_type: str | None = None


class SendGridInboundParse:
    """One inbox's Inbound Parse endpoint.

    With a security policy's verification key the post must carry SendGrid's ECDSA signature;
    without one, the per-inbox secret must come back in the URL (`?secret=`) or as the HTTP basic
    auth password. With neither configured nothing is accepted.
    """

    provider = "sendgrid"

    def __init__(
        self, secret: str | None, verification_key: str | None, *, clock: Clock = utc_now
    ) -> None:
        self._secret = secret
        self._verifier = (
            SignedWebhookVerifier(verification_key, clock=clock) if verification_key else None
        )

    def verify(self, request: RawRequest) -> None:
        if self._verifier is not None:
            self._verifier.verify(request)
            return
        if not self._secret:
            raise Unauthenticated("this inbox has no Inbound Parse secret or verification key")
        given = _query_secret(request.url) or _basic_auth_password(request.headers)
        if given is None:
            raise Unauthenticated("Inbound Parse request carries no secret")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            raise Unauthenticated("Inbound Parse secret does not match")

    def external_id(self, request: RawRequest) -> str:
        """A digest of the mail's Message-ID (of its content when it has none): stable when
        SendGrid posts the same mail again, whatever boundary the new post uses."""
        form = read_form(request)
        raw = form["email"].data if "email" in form else _field(form, "headers").encode()
        match = _MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0])
        key = match.group(1).strip() if match else _content_digest_source(form)
        return "sha256:" + hashlib.sha256(key).hexdigest()

    def parse(self, request: RawRequest) -> list[InboundEvent]:
        form = read_form(request)
        recipient = _envelope_recipient(form)
        raw = form["email"].data if "email" in form else rebuild_mime(form)
        return [inbound_message_from_mime(raw, recipient=recipient)]

    @staticmethod
    def recipient(request: RawRequest) -> Recipient:
        """The SMTP envelope's recipients (for the shared path, before verifying)."""
        envelope = _json_field(read_form(request), "envelope", {})
        recipients = envelope.get("to") or []
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, list):
            raise BadPayload("Inbound Parse envelope.to must be a list of addresses")
        return Recipient(ChannelKind.EMAIL, tuple(r for r in recipients if isinstance(r, str)))

    def acknowledge(self, events: list[InboundEvent]) -> Acknowledgement:
        return Acknowledgement(200, b"", "text/plain")


def read_form(request: RawRequest) -> dict[str, FormPart]:
    """The multipart/form-data fields by name; BadPayload for anything that is not one."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadPayload("Inbound Parse body must be multipart/form-data with a boundary")
    parts: list[tuple[list[tuple[bytes, bytes]], list[bytes]]] = []
    header: dict[str, bytes] = {}
    done: list[bool] = []

    def on_part_begin() -> None:
        parts.append(([], []))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] = header.get("field", b"") + data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] = header.get("value", b"") + data[start:end]

    def on_header_end() -> None:
        parts[-1][0].append((header.pop("field", b""), header.pop("value", b"")))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].append(data[start:end])

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_end": lambda: done.append(True),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(request.body)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise BadPayload(f"unreadable multipart body: {exc}") from exc
    if not done:
        raise BadPayload("multipart body is truncated: no closing boundary")
    return dict(_named_part(headers, b"".join(chunks)) for headers, chunks in parts)


def _named_part(headers: list[tuple[bytes, bytes]], data: bytes) -> tuple[str, FormPart]:
    fields = {name.strip().lower(): value.strip() for name, value in headers}
    _, disposition = parse_options_header(fields.get(b"content-disposition", b"").decode("latin-1"))
    name = disposition.get(b"name")
    if name is None:
        raise BadPayload("multipart part without a field name")
    filename = disposition.get(b"filename")
    return name.decode("utf-8", "replace"), FormPart(
        data=data,
        filename=decode_bytes(filename, "utf-8") if filename is not None else None,
        content_type=fields.get(b"content-type", b"").decode("latin-1") or None,
    )


def rebuild_mime(form: Mapping[str, FormPart]) -> bytes:
    """Parsed mode back to one MIME message: the original header block, untouched, above a
    body we build from the decoded text, HTML and attachment files."""
    charsets = _json_field(form, "charsets", {})
    text = _field(form, "text", charsets)
    html = _field(form, "html", charsets)
    body = EmailMessage(policy=policy.SMTP)
    if text or not html:
        body.set_content(text, charset="utf-8")
        if html:
            body.add_alternative(html, subtype="html", charset="utf-8")
    else:
        body.set_content(html, subtype="html", charset="utf-8")
    for data, options in _attachments(form):
        body.add_attachment(data, **options)
    headers = _field(form, "headers", charsets)
    if not headers.strip():
        raise BadPayload("Inbound Parse post has neither an email nor a headers field")
    return _kept_headers(headers).encode("utf-8") + body.as_bytes()


def _kept_headers(block: str) -> str:
    """The header block without its own MIME structure fields, folded lines kept whole."""
    kept: list[str] = []
    keep = True
    for line in block.replace("\r\n", "\n").strip("\n").split("\n"):
        if line[:1] in (" ", "\t"):
            if keep:
                kept.append(line)
            continue
        keep = line.split(":", 1)[0].strip().lower() not in _STRUCTURAL_HEADERS
        if keep:
            kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def _attachments(form: Mapping[str, FormPart]) -> list[tuple[bytes, dict[str, str]]]:
    """Each posted file with the name, type and Content-ID that attachment-info gives it."""
    info = _json_field(form, "attachment-info", {})
    content_ids = {field: cid for cid, field in _json_field(form, "content-ids", {}).items()}
    result = []
    for field, details in sorted(info.items(), key=lambda item: _number(item[0])):
        part = form.get(field)
        if part is None or not isinstance(details, dict):
            raise BadPayload(f"attachment-info names {field!r} but no such file was posted")
        kind = details.get("type") or part.content_type or ""
        maintype, _, subtype = kind.lower().partition("/")
        if maintype in _OPAQUE_MAINTYPES or not subtype:
            maintype, subtype = "application", "octet-stream"
        cid = details.get("content-id") or content_ids.get(field)
        options = {
            "maintype": maintype,
            "subtype": subtype,
            "filename": details.get("filename") or part.filename or field,
            "disposition": "inline" if cid else "attachment",
        }
        if cid:
            options["cid"] = f"<{cid.strip('<>')}>"
        result.append((part.data, options))
    return result


def _number(field: str) -> int:
    digits = field.removeprefix("attachment")
    return int(digits) if digits.isdigit() else 0


def _envelope_recipient(form: Mapping[str, FormPart]) -> str | None:
    """The SMTP recipient: which of our addresses this copy was delivered to."""
    envelope = _json_field(form, "envelope", {})
    recipients = envelope.get("to") if isinstance(envelope, dict) else None
    if isinstance(recipients, str):
        recipients = [recipients]
    if not recipients:
        return None
    if not isinstance(recipients, list) or not isinstance(recipients[0], str):
        raise BadPayload("Inbound Parse envelope.to must be a list of addresses")
    return recipients[0].strip().lower()


def _field(
    form: Mapping[str, FormPart],
    name: str,
    charsets: Mapping[str, str] | None = None,
) -> str:
    """A text field in the charset SendGrid names for it (UTF-8 unless told otherwise)."""
    part = form.get(name)
    if part is None:
        return ""
    return decode_bytes(part.data, (charsets or {}).get(name) or "utf-8")


def _json_field(form: Mapping[str, FormPart], name: str, default: Any) -> Any:
    if name not in form:
        return default
    value = load_json(form[name].data, f"Inbound Parse field {name!r} is not JSON")
    if type(value) is not type(default):
        raise BadPayload(f"Inbound Parse field {name!r} is not a JSON {type(default).__name__}")
    return value


def _content_digest_source(form: Mapping[str, FormPart]) -> bytes:
    if "email" in form:
        return form["email"].data
    return b"\0".join(form[name].data for name in ("headers", "text", "html") if name in form)


def _query_secret(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("secret")
    return values[0] if values else None


def _basic_auth_password(headers: Mapping[str, str]) -> str | None:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, separator, password = decoded.partition(":")
    return password if separator else None


__all__ = ["HANDLED", "IGNORED", "FormPart", "SendGridInboundParse", "read_form", "rebuild_mime"]
