"""Inbound mail: raw RFC 5322 bytes to the facts a shared inbox needs, never raising on bad mail.

The standard `email` package does the parsing: compat32 splits the MIME tree, and header fields
go through policy.default's header registry (see email_headers). Where it gives up on real mail
(multipart parts without a usable boundary, unknown charsets, 8-bit headers, absurd nesting) we
fall back to the part's raw bytes and a forgiving decode instead of failing the whole message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
import re
from datetime import datetime
from email import policy
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from clientcontact.channels.base import ChannelKind, InboundAttachment, InboundMessage
from clientcontact.channels.email_bounces import BounceInfo, bounce_info
from clientcontact.channels.email_build import build_email, reply_subject
from clientcontact.channels.email_headers import (
    addresses,
    date_header,
    decode_bytes,
    decode_words,
    first,
    is_email_message,
    message_ids,
    raw_header,
    text_header,
    without_lone_surrogates,
)
from clientcontact.content.sanitize import html_to_text
from clientcontact.errors import BadPayload

__all__ = [
    "BounceInfo",
    "ParsedAttachment",
    "ParsedEmail",
    "build_email",
    "inbound_message_from_mime",
    "parse_email",
    "parse_message",
    "reply_subject",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# The MIME tree is split with compat32, which keeps header values as raw strings: ten times
# faster than policy.default on many-part mail, and email_headers reads every field through
# policy.default's header registry anyway.
_TREE_POLICY = policy.compat32
MAX_PARTS = 500  # real mail stays far below; each part costs ~1 ms of stdlib header parsing
_CID_URL = re.compile(r"""cid:([^"'\s>)]+)""", re.I)
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "list", "junk"}


@dataclasses.dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes | None  # None when dropped for exceeding the size limit
    size: int
    content_id: str | None = None  # without angle brackets, as `cid:` URLs name it
    inline: bool = False
    oversized: bool = False


@dataclasses.dataclass(frozen=True)
class ParsedEmail:
    subject: str | None
    from_address: str | None
    from_name: str | None
    reply_to: tuple[str, ...]
    sender: str | None  # X-Original-Sender (Google Groups rewrites From), else Sender
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    message_id: str | None  # "<id>"
    in_reply_to: str | None  # the first id of In-Reply-To, "<id>"
    references: tuple[str, ...]
    text: str  # text/plain, or derived from the HTML when there is only HTML
    html: str | None  # as sent: sanitize before showing it anywhere
    attachments: tuple[ParsedAttachment, ...]
    auto_submitted: bool
    bounce: BounceInfo | None
    reply_to_names: tuple[str, ...] = ()
    original_sender: str | None = None  # X-Original-Sender alone
    skipped_parts: int = 0  # MIME leaves past MAX_PARTS, not read


def parse_message(raw: bytes) -> Message:
    """The stdlib's tolerant parse; BadPayload when the input is not mail at all."""
    if not isinstance(raw, bytes | bytearray):
        raise BadPayload("email must be bytes")
    try:
        msg = _tree(bytes(raw))
        if not msg.keys() or any(
            isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects
        ):
            repaired = _tree(_obsolete_names_fixed(raw))
            msg = repaired if len(repaired.keys()) > len(msg.keys()) else msg
    except Exception as exc:  # the feed parser is meant never to raise; guard it anyway
        raise BadPayload(f"unreadable MIME: {exc.__class__.__name__}") from exc
    if not is_email_message(msg):
        raise BadPayload("not an email: no header fields")
    return msg


def _tree(raw: bytes) -> Message:
    try:
        return BytesParser(policy=_TREE_POLICY).parsebytes(raw)
    except RecursionError:  # the feed parser recurses once per nesting level: keep the
        # headers and let the body be read as text (see _walk), rather than lose the mail
        return BytesParser(policy=_TREE_POLICY).parsebytes(raw, headersonly=True)


def _obsolete_names_fixed(raw: bytes) -> bytes:
    """RFC 5322 obsolete syntax allows "Subject   :"; the stdlib stops reading headers there."""
    head, separator, body = bytes(raw).partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = bytes(raw).partition(b"\n\n")
    return re.sub(rb"(?m)^([!-9;-~]+)[ \t]+:", rb"\1:", head) + separator + body


def parse_email(
    raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> ParsedEmail:
    """Everything we store about one inbound mail. Raises only BadPayload, for non-mail input."""
    msg = parse_message(raw)
    body = _walk(msg, max_attachment_bytes)
    html = "\n".join(body.htmls) if body.htmls else None
    text = "\n".join(body.texts) if body.texts else (html_to_text(html) if html else "")
    attachments = _mark_referenced_inline(body.attachments, html)
    from_pairs = addresses(msg, "from")
    reply_pairs = addresses(msg, "reply-to")
    bounce = bounce_info(msg)
    group_sender = [a for _, a in addresses(msg, "x-original-sender")]
    sender = group_sender or [a for _, a in addresses(msg, "sender")]
    return ParsedEmail(
        subject=text_header(msg, "subject"),
        from_address=first([a for _, a in from_pairs]),
        from_name=first([n for n, _ in from_pairs]) or None,
        reply_to=tuple(a for _, a in reply_pairs),
        reply_to_names=tuple(n for n, _ in reply_pairs),
        sender=first(sender),
        original_sender=first(group_sender),
        to=tuple(a for _, a in addresses(msg, "to")),
        cc=tuple(a for _, a in addresses(msg, "cc")),
        date=date_header(msg),
        message_id=first(message_ids(raw_header(msg, "message-id"))),
        in_reply_to=first(message_ids(raw_header(msg, "in-reply-to"))),
        references=tuple(message_ids(raw_header(msg, "references"))),
        text=text,
        html=html,
        attachments=tuple(attachments),
        auto_submitted=_is_auto_submitted(msg) or bounce is not None,
        bounce=bounce,
        skipped_parts=body.skipped_parts,
    )


def inbound_message_from_mime(raw: bytes, *, recipient: str | None = None) -> InboundMessage:
    """One inbound mail as the channel-neutral event ingest stores. Raises only BadPayload."""
    parsed = parse_email(raw)
    sender, sender_name = choose_sender(parsed, recipient=recipient)
    return InboundMessage(
        external_id=parsed.message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        channel=ChannelKind.EMAIL,
        sender=sender,
        recipient=(recipient or first(list(parsed.to)) or "").lower(),
        text=parsed.text,
        sender_name=sender_name,
        subject=parsed.subject,
        html=parsed.html,
        original=bytes(raw),
        email_message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        cc=parsed.cc,
        recipients=parsed.to,
        attachments=tuple(
            InboundAttachment(
                filename=a.filename,
                content_type=a.content_type,
                data=a.data,
                content_id=a.content_id,
                inline=a.inline,
            )
            for a in parsed.attachments
        ),
        auto_submitted=parsed.auto_submitted,
        occurred_at=parsed.date,
    )


def choose_sender(parsed: ParsedEmail, *, recipient: str | None = None) -> tuple[str, str | None]:
    """The address to answer and its name: the contact an agent is talking to.

    Google Groups rewrites From to the group and keeps the person in X-Original-Sender. A single
    Reply-To wins over From (people set it on purpose), unless it points back at our own inbox.
    """
    name = parsed.from_name
    if parsed.original_sender:
        return parsed.original_sender, name
    own = (recipient or "").lower()
    if len(parsed.reply_to) == 1 and parsed.reply_to[0] != own:
        return parsed.reply_to[0], (parsed.reply_to_names[0] or name)
    return parsed.from_address or "", name


def _is_auto_submitted(msg: Message) -> bool:
    """RFC 3834 Auto-Submitted plus the vendor headers auto-responders actually send."""
    auto = (raw_header(msg, "auto-submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if any(raw_header(msg, h) is not None for h in ("x-autoreply", "x-autorespond")):
        return True
    if raw_header(msg, "x-auto-response-suppress") is not None:
        return True
    return (raw_header(msg, "precedence") or "").strip().lower() in _AUTO_PRECEDENCE


@dataclasses.dataclass
class _Body:
    texts: list[str] = dataclasses.field(default_factory=list)
    htmls: list[str] = dataclasses.field(default_factory=list)
    attachments: list[ParsedAttachment] = dataclasses.field(default_factory=list)
    skipped_parts: int = 0


def _walk(msg: Message, limit: int) -> _Body:
    """Body texts and attachments in document order, without recursion (depth is attacker-set)
    and up to MAX_PARTS leaves (each costs several header parses in the stdlib)."""
    body = _Body()
    stack: list[Message] = [msg]
    leaves = 0
    while stack:
        part = stack.pop()
        kind = part.get_content_type()
        if part.is_multipart() and kind != "message/rfc822":
            stack.extend(reversed(part.get_payload()))
            continue
        leaves += 1
        if leaves > MAX_PARTS:
            body.skipped_parts += 1
            continue
        if kind == "message/delivery-status":
            continue  # read by email_bounces
        disposition = part.get_content_disposition()
        filename = _filename(part)
        # A multipart whose boundary the stdlib could not find is left as text: show it as text.
        is_text = kind in ("text/plain", "text/html") or kind.startswith("multipart/")
        if is_text and disposition != "attachment" and not filename:
            text = _decoded_text(part)
            if text.strip() or kind == "text/plain":
                (body.htmls if kind == "text/html" else body.texts).append(text)
        else:
            number = len(body.attachments) + 1
            body.attachments.append(_attachment(part, kind, disposition, filename, number, limit))
    return body


def _decoded_text(part: Message) -> str:
    data = _payload_bytes(part)
    text = decode_bytes(data, part.get_param("charset"))
    return text.replace("\r\n", "\n")


def _payload_bytes(part: Message) -> bytes:
    try:
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            return part.get_payload(0).as_bytes(policy=policy.SMTP)
        data = part.get_payload(decode=True)
    except Exception:  # broken transfer encoding or an unserialisable attached message
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def _attachment(
    part: Message, kind: str, disposition: str | None, filename: str | None, number: int, limit: int
) -> ParsedAttachment:
    data = _payload_bytes(part)
    content_id = first(_content_ids(part))
    oversized = len(data) > limit
    return ParsedAttachment(
        filename=filename or _generated_name(kind, number),
        content_type=kind,
        data=None if oversized else data,
        size=len(data),
        content_id=content_id,
        inline=bool(content_id) and disposition != "attachment" and kind.startswith("image/"),
        oversized=oversized,
    )


def _content_ids(part: Message) -> list[str]:
    return [i[1:-1] for i in message_ids(raw_header(part, "content-id"))]


def _filename(part: Message) -> str | None:
    """The attachment name as the sender's client shows it.

    Plain `filename=` values are read from the raw header ourselves: clients leave them
    unquoted with spaces, raw UTF-8, or RFC 2047-encoded, and the stdlib mangles all three.
    RFC 2231 `filename*=` values (charset-tagged, maybe split) are the stdlib's job.
    """
    fields = (
        f"{raw_header(part, 'content-disposition') or ''};{raw_header(part, 'content-type') or ''}"
    )
    plain = _raw_param(part, "content-disposition", "filename") or _raw_param(
        part, "content-type", "name"
    )
    if plain and not re.search(r"name\*", fields, re.I):
        name: object = decode_words(plain)
    else:
        try:
            name = part.get_filename() or part.get_param("name")
        except Exception:  # malformed parameters
            name = None
        if isinstance(name, tuple):  # an RFC 2231 value without a usable charset
            name = collapse_rfc2231_value(name, errors="replace", fallback_charset="utf-8")
    if not name:
        return None
    return " ".join(without_lone_surrogates(str(name)).split()) or None


def _raw_param(part: Message, header: str, param: str) -> str | None:
    """A plain `param=value` as written (quoted or not), read from the unparsed header."""
    value = raw_header(part, header) or ""
    found = re.search(rf'(?:^|;)\s*{param}\s*=\s*(?:"([^"]*)"|([^;]*))', value, re.I)
    if not found:
        return None
    return (found.group(1) if found.group(1) is not None else found.group(2)).strip() or None


def _generated_name(kind: str, number: int) -> str:
    if kind == "message/rfc822":
        return f"message-{number}.eml"
    extension = mimetypes.guess_extension(kind) or ".bin"
    return f"attachment-{number}{extension}"


def _mark_referenced_inline(
    attachments: list[ParsedAttachment], html: str | None
) -> list[ParsedAttachment]:
    """Any part the HTML shows through `cid:` is inline, whatever its disposition says."""
    if not html or not attachments:
        return attachments
    shown = {cid.lower() for cid in _CID_URL.findall(html)}
    return [
        dataclasses.replace(item, inline=True)
        if item.content_id and item.content_id.lower() in shown
        else item
        for item in attachments
    ]
