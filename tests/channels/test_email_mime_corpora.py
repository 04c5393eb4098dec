"""Real mail from two other projects' test suites parses, and says what their tests say it says.

Every file of the chatwoot and mikel/mail corpora must parse. Every fact in their
expectations.json becomes one test. Where the other product's *policy* differs from ours, the
fact is listed in POLICY with the reason and our own expectation instead; facts that belong to a
later layer (routing, contacts, conversations) are in OTHER_LAYER, checked as the MIME fact that
layer relies on. Nothing is skipped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from clientcontact.channels.base import InboundMessage
from clientcontact.channels.email_headers import addresses, date_header, message_ids, raw_header
from clientcontact.channels.email_headers import text_header as header_text
from clientcontact.channels.email_mime import (
    ParsedEmail,
    inbound_message_from_mime,
    parse_email,
    parse_message,
)
from clientcontact.content.sanitize import html_to_text
from clientcontact.errors import BadPayload

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
pytestmark = pytest.mark.skipif(not CORPORA.exists(), reason=f"corpora not found at {CORPORA}")


@dataclass(frozen=True)
class Mail:
    raw: bytes
    parsed: ParsedEmail
    inbound: InboundMessage
    message: Message  # the stdlib tree, for structural facts


@cache
def _mail(path: Path) -> Mail:
    raw = path.read_bytes()
    return Mail(raw, parse_email(raw), inbound_message_from_mime(raw), parse_message(raw))


def _bare(ids) -> list[str]:
    return [i.strip("<>") for i in ids if i]


def _attachments(mail: Mail, *, kept_only: bool = False) -> list:
    return [a for a in mail.parsed.attachments if not (kept_only and a.inline)]


def _cids_in_html(mail: Mail) -> set[str]:
    return set(re.findall(r'cid:([^"\'\s>]+)', mail.parsed.html or ""))


def _inline_ids(mail: Mail) -> set[str]:
    return {a.content_id for a in mail.parsed.attachments if a.inline}


def _eq(actual: Any, expected: Any) -> None:
    assert actual == expected


def _groups(m: Mail, name: str) -> tuple:
    return policy.default.header_factory(name, raw_header(m.message, name)).groups


def _received_dates(m: Mail) -> list[datetime]:
    return [parsedate_to_datetime(v.rsplit(";", 1)[1]) for v in m.message.get_all("received")]


def _threads_into(m: Mail, expected: str) -> None:
    if "uuid" in expected:  # addressed to reply+<uuid>@…
        uuid = expected.split()[2]
        assert any(f"reply+{uuid}@" in a for a in m.parsed.to)
    else:
        assert f"<{expected.rsplit(' ', 1)[1]}>" in {*m.parsed.references, m.parsed.in_reply_to}


Check = Callable[[Mail, Any], None]
CHECKS: dict[str, Check] = {
    # addresses and names
    "from": lambda m, e: _eq([m.parsed.from_address], [a.lower() for a in e]),
    "from_normalized": lambda m, e: _eq(m.parsed.from_address, e),
    "to": lambda m, e: _eq(list(m.parsed.to), [a.lower() for a in e]),
    "cc": lambda m, e: _eq(list(m.parsed.cc), e),
    "reply_to": lambda m, e: _eq(list(m.parsed.reply_to), e),
    "sender": lambda m, e: _eq(m.parsed.sender, e),
    "from_display_name": lambda m, e: _eq(m.parsed.from_name, e),
    "to_display_name": lambda m, e: _eq(addresses(m.message, "to")[0][0], e),
    "cc_group_names": lambda m, e: _eq([g.display_name for g in _groups(m, "cc")], e),
    "to_group_addresses": lambda m, e: _eq(
        [a for g in _groups(m, "to") if g.display_name for a in g.addresses], e
    ),
    "resent_from": lambda m, e: _eq([a for _, a in addresses(m.message, "resent-from")], e),
    "resent_to": lambda m, e: _eq([a for _, a in addresses(m.message, "resent-to")], e),
    "resent_date": lambda m, e: _eq(
        date_header(m.message, "resent-date"), parsedate_to_datetime(e)
    ),
    "resent_message_id": lambda m, e: _eq(
        _bare(message_ids(raw_header(m.message, "resent-message-id"))), [e]
    ),
    "received_dates": lambda m, e: _eq(_received_dates(m), [parsedate_to_datetime(d) for d in e]),
    "contact_email": lambda m, e: _eq(m.inbound.sender, e),
    "contact_name": lambda m, e: _eq(m.inbound.sender_name, e),
    "contact_email_from": lambda m, e: _eq(
        (m.inbound.sender, m.inbound.sender != m.parsed.from_address), (m.parsed.reply_to[0], True)
    ),
    "reply_to_header": lambda m, e: _eq(header_text(m.message, "reply-to"), e),
    # identity, date and threading headers
    "message_id": lambda m, e: _eq(_bare([m.parsed.message_id]), [e]),
    "in_reply_to": lambda m, e: _eq(
        _bare([m.parsed.in_reply_to])
        if isinstance(e, list)
        else (_bare([m.parsed.in_reply_to]) or [None])[0],
        e,
    ),
    "references": lambda m, e: _eq(_bare(m.parsed.references), e),
    "date": lambda m, e: _eq(m.parsed.date, parsedate_to_datetime(e)),
    "date_iso": lambda m, e: _eq(m.parsed.date, datetime.fromisoformat(e)),
    # subject and bodies
    "subject": lambda m, e: _eq(m.parsed.subject or "", e),
    "subject_raw_bytes_latin1": lambda m, e: _eq(m.parsed.subject, e),
    "body_decoded": lambda m, e: _eq(m.parsed.text, e),
    "body_decoded_rstrip_newline": lambda m, e: _eq(m.parsed.text.rstrip("\n"), e),
    "text_full": lambda m, e: _eq(m.parsed.text, e),
    "content": lambda m, e: _eq(m.parsed.text.rstrip() or None, e),
    "content_includes": lambda m, e: _eq(e in m.parsed.text, True),
    "text_reply_prefix_71": lambda m, e: _eq(m.parsed.text.strip()[:71], e),
    "html_full_includes": lambda m, e: _eq(e in (m.parsed.html or ""), True),
    "auto_reply": lambda m, e: _eq(m.parsed.auto_submitted, e),
    # attachments
    "number_of_attachments": lambda m, e: _eq(len(_attachments(m)), e),
    "number_of_attachments_kept": lambda m, e: _eq(len(_attachments(m, kept_only=True)), e),
    "attachment_count": lambda m, e: _eq(len(_attachments(m)), e),
    "has_attachments": lambda m, e: _eq(bool(_attachments(m, kept_only=True)), e),
    "attachment_filenames": lambda m, e: _eq(
        [a.filename for a in _attachments(m)]
        if isinstance(e, list)
        else all(a.filename for a in _attachments(m)),
        e if isinstance(e, list) else True,
    ),
    # MIME structure
    "multipart": lambda m, e: _eq(m.message.is_multipart(), e),
    "content_type_includes": lambda m, e: _eq(e in m.message.get_content_type(), True),
    "top_level_parts": lambda m, e: _eq(len(m.message.get_payload()), e),
    "first_part_subparts": lambda m, e: _eq(len(m.message.get_payload(0).get_payload()), e),
    "boundary": lambda m, e: _eq(m.message.get_boundary(), e),
    "first_part_boundary": lambda m, e: _eq(m.message.get_payload(0).get_boundary(), e),
    "must_not_raise": lambda m, e: _eq(isinstance(m.inbound, InboundMessage), e),
}


def _cid_images_are_inline(m: Mail, _: Any) -> None:
    assert _cids_in_html(m) and _cids_in_html(m) <= _inline_ids(m)


# (file name, key) -> (why our policy differs, what we expect instead)
POLICY: dict[tuple[str, str], tuple[str, Check]] = {
    ("multiple_attachments.eml", "number_of_attachments_kept"): (
        "chatwoot caps attachments at 15 per message; we keep all 30",
        lambda m, e: _eq(len(_attachments(m, kept_only=True)), 30),
    ),
    ("mail_with_quote.eml", "chatwoot_content"): (
        "chatwoot joins the wrapped '<\\ntejaswini@…>' line; we keep the text as sent "
        "(quote included, like chatwoot; stripping is the reply-trimmer's job)",
        lambda m, e: _eq(" ".join(m.parsed.text.split()), " ".join(e.split())),
    ),
    ("mail_with_inline_images.eml", "html_full_not_includes"): (
        "chatwoot rewrites cid: URLs to its file URLs; we keep cid: for the UI to map",
        _cid_images_are_inline,
    ),
    ("cid_inline_images_without_disposition.eml", "html_full_not_includes"): (
        "chatwoot rewrites cid: URLs to its file URLs; we keep cid: for the UI to map",
        _cid_images_are_inline,
    ),
    ("mail_with_plain_text_and_inline_image.eml", "text_full_includes"): (
        "chatwoot turns Gmail's '[image: x]' placeholders into <img> links; we keep text as sent",
        lambda m, e: _eq("[image: poster (8).jpg]" in m.parsed.text, True),
    ),
    ("mail_with_plain_text_and_inline_image.eml", "text_full_not_includes"): (
        "as above: the placeholders stay, and the images they name are inline attachments",
        lambda m, e: _eq(all(p in m.parsed.text for p in e) and len(_inline_ids(m)) == 3, True),
    ),
    ("mail_with_html_part_no_html_content.eml", "html_full"): (
        "chatwoot drops this HTML part; we keep every HTML body as sent (sanitized on display)",
        lambda m, e: _eq(html_to_text(m.parsed.html or "").startswith("Greetings!"), True),
    ),
    ("support_1.eml", "html_reply_includes"): (
        "chatwoot renders HTML as Markdown; we derive plain text (no link syntax)",
        lambda m, e: _eq(
            all(line in m.parsed.text for line in e.splitlines() if "[" not in line), True
        ),
    ),
    ("support_without_sender_name.eml", "contact_name"): (
        "chatwoot invents the local part as a name; we leave the name empty for contacts to decide",
        lambda m, e: _eq((m.inbound.sender_name, m.inbound.sender.split("@")[0]), (None, e)),
    ),
    ("attachment_message_rfc822.eml", "attachment_count"): (
        "the mail gem counts attachments inside a forwarded message; we keep the forwarded "
        "message whole as one .eml attachment",
        lambda m, e: _eq([a.content_type for a in m.parsed.attachments], ["message/rfc822"]),
    ),
    ("attachment_message_rfc822.eml", "second_attachment_decoded_length"): (
        "as above: the 1026-byte file is the attachment of the forwarded .eml",
        lambda m, e: _eq(parse_email(m.parsed.attachments[0].data).attachments[0].size, e),
    ),
}

# Facts for routing, contacts and conversations: checked as the MIME fact that layer relies on.
OTHER_LAYER: dict[str, Check] = {
    "threads_into": _threads_into,
    "routes_to_inbox_via": lambda m, e: _eq(re.search(r"\((.+)\)", e)[1] in m.parsed.cc, True),
    "creates_message": lambda m, e: _eq(
        (m.inbound.auto_submitted, m.parsed.bounce is not None), (e, e)
    ),
    "creates_conversation": lambda m, e: _eq(m.parsed.from_address, "accounts@chatwoot.com"),
    "contact_matches_existing_case_insensitively": lambda m, e: _eq(
        m.inbound.sender, "sony@chatwoot.com"
    ),
}


def _load(source: str, base: str) -> tuple[list[Path], list]:
    folder = CORPORA / source
    if not folder.exists():
        return [], []
    spec = json.loads((folder / "expectations.json").read_text(encoding="utf-8"))
    files = sorted(folder.rglob("*.eml"))
    cases = [
        pytest.param(
            folder / case["file"], key, value, id=f"{source}:{Path(case['file']).stem}:{key}"
        )
        for case in spec["cases"]
        for key, value in case["expect"].items()
    ]
    return files, cases


CHATWOOT_FILES, CHATWOOT_CASES = _load("chatwoot", "spec/fixtures/files")
MIKEL_FILES, MIKEL_CASES = _load("mikel-mail", "spec/fixtures/emails")


@pytest.mark.parametrize(
    "path", CHATWOOT_FILES + MIKEL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_corpus_file_parses(path: Path) -> None:
    mail = _mail(path)
    assert mail.inbound.external_id
    assert mail.inbound.original == mail.raw


@pytest.mark.parametrize(("path", "key", "expected"), CHATWOOT_CASES + MIKEL_CASES)
def test_expectation(path: Path, key: str, expected: Any) -> None:
    mail = _mail(path)
    if (path.name, key) in POLICY:
        _reason, ours = POLICY[path.name, key]
        ours(mail, expected)
    elif key in OTHER_LAYER:
        OTHER_LAYER[key](mail, expected)
    else:
        assert key in CHECKS, f"no check written for expectation key {key!r}"
        CHECKS[key](mail, expected)


def test_policy_entries_all_name_real_expectations() -> None:
    known = {(p.values[0].name, p.values[1]) for p in CHATWOOT_CASES + MIKEL_CASES}
    assert set(POLICY) <= known


# Stories beyond the two corpora's own expectations.

CHATWOOT = CORPORA / "chatwoot" / "spec" / "fixtures" / "files"
REPORTS = CORPORA / "mikel-mail" / "spec" / "fixtures" / "emails" / "multipart_report_emails"


def test_a_hard_bounce_names_the_recipient_the_reason_and_our_message() -> None:
    bounce = _mail(REPORTS / "report_530.eml").parsed.bounce
    assert bounce is not None and bounce.permanent
    assert (bounce.action, bounce.status, bounce.final_recipient) == (
        "failed",
        "5.3.0",
        "edwin@zzzzzzz.com",
    )
    assert bounce.diagnostic_code == "553 5.3.0 <edwin@zzzzzzz.com>... Unknown E-Mail Address"
    assert bounce.original_message_id == "<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>"


def test_a_delay_warning_is_not_a_permanent_failure() -> None:
    bounce = _mail(REPORTS / "report_422.eml").parsed.bounce
    assert bounce is not None and (bounce.action, bounce.status) == ("delayed", "4.2.2")
    assert not bounce.permanent


def test_one_report_can_bounce_several_recipients() -> None:
    bounce = _mail(REPORTS / "multi_address_bounce1.eml").parsed.bounce
    assert bounce is not None and len(bounce.recipients) == 5
    assert {r.status for r in bounce.recipients} == {"5.1.1"}


def test_gmail_bounce_without_delivery_status_still_points_at_our_message() -> None:
    mail = _mail(CHATWOOT / "bounced_gmail.eml")
    assert mail.parsed.bounce.final_recipient == "alex.jones@fictionalcorp.com"
    assert mail.parsed.bounce.original_message_id == (
        "<conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com>"
    )


def test_ordinary_mail_is_not_a_bounce() -> None:
    assert _mail(CHATWOOT / "reply.eml").parsed.bounce is None


def test_oversized_attachments_are_recorded_without_their_bytes() -> None:
    raw = (CHATWOOT / "only_attachments.eml").read_bytes()
    (attachment,) = parse_email(raw, max_attachment_bytes=1000).attachments
    assert attachment.oversized and attachment.data is None
    assert attachment.size == 203542 and attachment.content_type == "image/jpeg"


def test_mail_without_message_id_gets_a_stable_content_hash_as_id() -> None:
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    first, second = inbound_message_from_mime(raw), inbound_message_from_mime(raw)
    assert first.external_id == second.external_id
    assert first.external_id.startswith("sha256:") and first.email_message_id is None


def test_reply_to_pointing_at_our_own_inbox_does_not_become_the_contact() -> None:
    raw = (
        b"From: Dana <Dana@Customer.example>\r\nReply-To: support@shop.example\r\n"
        b"To: support@shop.example\r\nSubject: hi\r\n\r\nhello\r\n"
    )
    message = inbound_message_from_mime(raw, recipient="Support@Shop.example")
    assert (message.sender, message.sender_name) == ("dana@customer.example", "Dana")
    assert message.recipient == "support@shop.example"


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "X-Autorespond: on vacation",
        "Precedence: bulk",
        "Precedence: auto_reply",
        "X-Auto-Response-Suppress: All",
    ],
)
def test_auto_submitted_mail_is_flagged(header: str) -> None:
    raw = f"From: a@example.com\r\n{header}\r\nSubject: away\r\n\r\nI am away\r\n".encode()
    assert parse_email(raw).auto_submitted


def test_auto_submitted_no_is_a_person() -> None:
    raw = b"From: a@example.com\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nhello\r\n"
    assert not parse_email(raw).auto_submitted


def test_non_mail_input_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload):
        parse_email(b"\x89PNG\r\n\x1a\n\x00\x00")
