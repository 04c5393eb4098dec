"""An agent's reply, built and read back the way the customer's mail client will read it."""

from __future__ import annotations

import dataclasses
import re

import pytest

from clientcontact.channels.base import Attachment, ChannelKind, OutboundMessage
from clientcontact.channels.email_build import REFERENCES_KEEP_LAST, build_email, reply_subject
from clientcontact.channels.email_mime import parse_email, parse_message

REPLY = OutboundMessage(
    message_id=7,
    account_id=1,
    inbox_id=2,
    channel=ChannelKind.EMAIL,
    to="dana@customer.example",
    to_name="Dana Customer",
    from_address="support@shop.example",
    from_name="Ana from Shop",
    cc=("boss@customer.example",),
    reply_to="reply+conv42@shop.example",
    subject="Re: Where is my order?",
    text="Hi Dana,\n\nIt ships today.\nAna",
    in_reply_to="<c3@customer.example>",
    references=("<c1@customer.example>", "<a2@shop.example>"),
)


def _round_trip(message: OutboundMessage):
    raw = build_email(message, domain="shop.example").as_bytes()
    return raw, parse_email(raw)


def test_a_text_reply_goes_out_as_text_and_html_alternatives() -> None:
    raw, parsed = _round_trip(REPLY)
    assert parse_message(raw).get_content_type() == "multipart/alternative"
    assert parsed.text.rstrip("\n") == REPLY.text
    assert "<p>Hi Dana,</p>" in parsed.html
    assert "It ships today.<br>" in parsed.html


def test_an_html_reply_gets_a_text_twin() -> None:
    _, parsed = _round_trip(dataclasses.replace(REPLY, text="", html="<p>Hello <b>there</b></p>"))
    assert parsed.text.strip() == "Hello there"
    assert "<b>there</b>" in parsed.html


def test_text_is_escaped_in_the_html_twin() -> None:
    _, parsed = _round_trip(dataclasses.replace(REPLY, text="a <script>x</script> & b"))
    assert "<script>" not in parsed.html and "&lt;script&gt;" in parsed.html


def test_addresses_and_subject() -> None:
    raw, parsed = _round_trip(REPLY)
    assert (parsed.from_address, parsed.from_name) == ("support@shop.example", "Ana from Shop")
    assert parsed.to == ("dana@customer.example",)
    assert parsed.cc == ("boss@customer.example",)
    assert parsed.reply_to == ("reply+conv42@shop.example",)
    assert parsed.subject == "Re: Where is my order?"
    assert parsed.date is not None
    assert not parsed.auto_submitted and b"Auto-Submitted" not in raw


def test_threading_headers_chain_the_customer_message() -> None:
    _, parsed = _round_trip(REPLY)
    assert parsed.in_reply_to == "<c3@customer.example>"
    assert parsed.references == (
        "<c1@customer.example>",
        "<a2@shop.example>",
        "<c3@customer.example>",
    )


def test_our_message_id_is_kept_or_made_on_our_domain() -> None:
    _, given = _round_trip(dataclasses.replace(REPLY, email_message_id="<m7@shop.example>"))
    assert given.message_id == "<m7@shop.example>"
    _, made = _round_trip(REPLY)
    assert re.fullmatch(r"<[0-9a-f-]{36}@shop\.example>", made.message_id)


def test_long_reference_chains_keep_the_root_and_the_latest_ids() -> None:
    chain = tuple(f"<m{i}@customer.example>" for i in range(40))
    raw, parsed = _round_trip(
        dataclasses.replace(REPLY, references=chain[:-1], in_reply_to=chain[-1])
    )
    assert parsed.references == (chain[0], *chain[-REFERENCES_KEEP_LAST:])
    references_field = re.search(rb"\nReferences: (.*?)\n(?! )", raw, re.S).group(1)
    assert max(len(line) for line in references_field.split(b"\n")) <= 78  # folded


def test_attachments_and_inline_images() -> None:
    message = dataclasses.replace(
        REPLY,
        html='<p>Logo: <img src="cid:logo@shop"></p>',
        attachments=(
            Attachment("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
            Attachment("logo.png", "image/png", b"\x89PNG", content_id="logo@shop", inline=True),
        ),
    )
    raw, parsed = _round_trip(message)
    assert parse_message(raw).get_content_type() == "multipart/mixed"
    related = [p for p in parse_message(raw).walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    found = {a.filename: a for a in parsed.attachments}
    assert found["invoice.pdf"].data == b"%PDF-1.4 test" and not found["invoice.pdf"].inline
    assert found["logo.png"].inline and found["logo.png"].content_id == "logo@shop"


@pytest.mark.parametrize(
    ("customer_subject", "ours"),
    [
        ("Where is my order?", "Re: Where is my order?"),
        ("Re: Where is my order?", "Re: Where is my order?"),
        ("RE: re: Where is my order?", "Re: Where is my order?"),
        ("Re[2]: Where is my order?", "Re: Where is my order?"),
        ("AW: Bestellung", "Re: Bestellung"),
        ("SV: Beställning", "Re: Beställning"),
        ("Fwd: Where is my order?", "Re: Fwd: Where is my order?"),
        ("  Where   is my order?  ", "Re: Where is my order?"),
        ("", "Re:"),
        (None, "Re:"),
    ],
)
def test_reply_subject(customer_subject: str | None, ours: str) -> None:
    assert reply_subject(customer_subject) == ours
