"""Outbound mail: an agent's reply as a MIME message that threads in every customer's client."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, localtime

from clientcontact.channels.base import Attachment, OutboundMessage
from clientcontact.content.sanitize import html_to_text

# Like Thunderbird and Gmail: keep the thread root and the most recent ids, drop the middle, so
# long threads neither overflow header limits nor lose their anchor.
REFERENCES_KEEP_LAST = 10
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|vs|ref)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.I)


def reply_subject(latest_customer_subject: str | None) -> str:
    """The customer's latest subject with exactly one "Re: " in front ("Fwd:" is left alone)."""
    subject = " ".join((latest_customer_subject or "").split())
    stripped = _REPLY_PREFIX.sub("", subject)
    return f"Re: {stripped}" if stripped else "Re:"


def capped_references(references: tuple[str, ...] | list[str]) -> list[str]:
    ids = list(dict.fromkeys(r for r in references if r))
    if len(ids) <= REFERENCES_KEEP_LAST + 1:
        return ids
    return [ids[0], *ids[-REFERENCES_KEEP_LAST:]]


def build_email(message: OutboundMessage, *, domain: str) -> EmailMessage:
    """The reply as MIME: text and HTML alternatives, threading headers, attachments.

    No Auto-Submitted header: an agent's reply is written by a person, and marking it would make
    customers' auto-responders (rightly) stay silent and filters treat it as machine mail.
    """
    mail = EmailMessage()
    mail["From"] = _address(message.from_address, message.from_name)
    mail["To"] = _address(message.to, message.to_name)
    if message.cc:
        mail["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        mail["Reply-To"] = message.reply_to
    mail["Subject"] = " ".join((message.subject or "").split())  # no header injection
    mail["Date"] = format_datetime(localtime())
    mail["Message-ID"] = message.email_message_id or f"<{uuid.uuid4()}@{domain}>"
    references = capped_references((*message.references, message.in_reply_to or ""))
    if message.in_reply_to:
        mail["In-Reply-To"] = message.in_reply_to
    if references:
        mail["References"] = " ".join(references)  # the policy folds it at 78 columns
    text = message.text or (html_to_text(message.html) if message.html else "")
    mail.set_content(text)
    mail.add_alternative(message.html or text_to_html(text), subtype="html")
    _attach(mail, message.attachments)
    return mail


def text_to_html(text: str) -> str:
    """Escaped paragraphs and line breaks: the HTML twin of an agent's plain-text reply."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    body = "".join(
        "<p>" + html_lib.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs if p
    )
    return f"<!DOCTYPE html>\n<html><body>\n{body}</body></html>\n"


def _address(addr: str, name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        return addr
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError):  # an address the header registry cannot model
        return addr


def _attach(mail: EmailMessage, attachments: tuple[Attachment, ...]) -> None:
    inline = [a for a in attachments if a.inline and a.content_id]
    if inline:
        html_part = mail.get_body(("html",))
        if html_part is not None:
            for item in inline:
                maintype, subtype = _split(item.content_type)
                html_part.add_related(
                    item.data,
                    maintype=maintype,
                    subtype=subtype,
                    cid=f"<{item.content_id.strip('<>')}>",
                    filename=item.filename,
                    disposition="inline",
                )
    for item in attachments:
        if item in inline:
            continue
        maintype, subtype = _split(item.content_type)
        mail.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)


def _split(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = (content_type or "").partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype.strip().lower(), subtype.strip().lower()
