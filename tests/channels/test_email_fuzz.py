"""No inbound bytes can crash ingest: parsing raises BadPayload or returns a message, nothing else.

Bounded example counts keep this to a few seconds; the corpus mutations start from real mail so
the fuzzing reaches the MIME tree, charsets and headers rather than dying at the first line.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientcontact.channels.base import InboundMessage
from clientcontact.channels.email_mime import ParsedEmail, inbound_message_from_mime, parse_email
from clientcontact.content.sanitize import html_to_text, sanitize_html
from clientcontact.errors import BadPayload

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis directory in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _corpus() -> tuple[bytes, ...]:
    paths = sorted(CORPORA.glob("chatwoot/**/*.eml")) + sorted(CORPORA.glob("mikel-mail/**/*.eml"))
    return tuple(p.read_bytes() for p in paths if p.stat().st_size < 64_000)


def _parses_or_refuses(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
        message = inbound_message_from_mime(raw, recipient="support@shop.example")
    except BadPayload:
        return
    assert isinstance(parsed, ParsedEmail)
    assert isinstance(message, InboundMessage)
    assert message.external_id and message.original == raw


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    _parses_or_refuses(raw)


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
     "References", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
     "X-Original-Sender", "Auto-Submitted", "MIME-Version"]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["multipart/mixed; boundary=x", "multipart/alternative", "text/plain; charset=x-unknown",
         "=?utf-8?B?w6k=?=", "=?iso-2022-jp?B?GyRCJCIbKEI=?=", "<a@b> <<c@d>", "base64",
         "quoted-printable", "attachment; filename*=utf-8''%E2%82%AC.txt", "a@b, @, <>"]
    ),
)  # fmt: skip


@FUZZ
@given(
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12),
    body=st.binary(max_size=1024),
)
def test_generated_headers_and_bodies(headers: list[tuple[str, str]], body: bytes) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    _parses_or_refuses(head.encode("utf-8", "surrogatepass") + b"\r\n" + body)


@pytest.mark.skipif(not CORPORA.exists(), reason=f"corpora not found at {CORPORA}")
@FUZZ
@given(data=st.data())
def test_mutated_corpus_mail(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from(_corpus()), label="mail"))
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        at = data.draw(st.integers(0, len(raw)), label="at")
        kind = data.draw(st.sampled_from(["cut", "flip", "insert", "delete", "repeat"]))
        if kind == "cut":
            del raw[at:]
        elif kind == "flip" and at < len(raw):
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            raw[at:at] = data.draw(st.sampled_from([b"\r\n", b"--", b"\n\n", b"=?", b"\x00"]))
        elif kind == "delete":
            del raw[at : at + data.draw(st.integers(1, 200))]
        else:
            raw[at:at] = raw[at : at + data.draw(st.integers(1, 400))]
    _parses_or_refuses(bytes(raw))


@FUZZ
@given(st.text(max_size=2000))
def test_html_helpers_never_raise(html: str) -> None:
    sanitize_html(html)
    html_to_text(html)


def _nested_multipart(depth: int) -> bytes:
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return (
        b"From: a@example.com\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n" + closing
    )


HOSTILE = {
    "50k References": b"From: a@b.c\r\nReferences: "
    + b" ".join(b"<%d@x>" % i for i in range(50_000))
    + b"\r\n\r\nx",
    "20k encoded-words in Subject": b"From: a@b.c\r\nSubject: "
    + b" ".join([b"=?utf-8?q?a?="] * 20_000)
    + b"\r\n\r\nx",
    "20k From addresses": b"From: "
    + b", ".join(b"x%d@y.z" % i for i in range(20_000))
    + b"\r\n\r\n",
    "5k nested comments in To": b"From: a@b.c\r\nTo: " + b"(" * 5_000 + b"\r\n\r\nx",
    "3k nested multiparts": _nested_multipart(3_000),
    "10k cid images": b"From: a@b.c\r\nContent-Type: multipart/related; boundary=z\r\n\r\n--z\r\n"
    + b"Content-Type: text/html\r\n\r\n"
    + b"<img src=cid:x>" * 10_000
    + b"".join(
        b"\r\n--z\r\nContent-Type: image/png\r\nContent-ID: <i%d>\r\n\r\nx" % i
        for i in range(10_000)
    )
    + b"\r\n--z--\r\n",
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_mail_is_cheap(raw: bytes) -> None:
    _parses_or_refuses(raw)
