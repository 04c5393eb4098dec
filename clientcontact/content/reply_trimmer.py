"""Cut quoted history, embedded emails and signatures out of an inbound plain-text reply.

Why our own: the project prefers a maintained library, but none is close on the shared corpora
(``bench/reply_parsers.py``, docs/reply-stripping.md). Of the 64 discourse cases,
email-reply-parser 0.5.12 gets 28, mail-parser-reply 1.36 gets 18 and talon 1.4.4 gets 32,
against our target of 60 plus every github case. This is a line-pattern trimmer after
discourse's email_reply_trimmer (MIT): each line becomes one letter (``reply_markers.Line``)
and the cuts are made on that letter string with hand-written scans instead of the original's
backtracking regexes, so the work stays linear in the size of the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clientcontact.content.reply_html import html_reply_text
from clientcontact.content.reply_markers import (
    CODE_FENCE,
    MAX_MARKER_LINE,
    WRAPPED_HEADER_START,
    Line,
    classify,
    is_embedded_marker,
)

_MAX_WRAPPED_LINES = 4
_USENET_QUOTE = re.compile(r"^[ \t]*(?:[A-Za-z]{1,12}>|\|)")  # "Richard> x", "| x" -> "> x"
_UNCLOSED_ADDRESS = re.compile(r"<[^<>]*$")
_PGP_HEAD = re.compile(r"\A-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash: [\w-]+\n)?\n")
_PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"
_PGP_END = "-----END PGP SIGNATURE-----"


@dataclass(frozen=True)
class TrimmedReply:
    """What the agent sees, and what was cut (kept so the UI can offer "show trimmed content")."""

    visible: str
    elided: str


def trim_reply(text: str) -> TrimmedReply:
    """Split a plain-text email body into the newly written reply and the removed rest."""
    lines = _preprocess(text)
    keep = _keep_indices(_line_kinds(lines))
    kept = set(keep)
    visible = "\n".join(lines[i] for i in keep).strip()
    elided = "\n".join(line for i, line in enumerate(lines) if i not in kept).strip()
    return TrimmedReply(visible, elided)


def _line_kinds(lines: list[str]) -> str:
    """Classify every line; inside a fenced code block everything is text."""
    kinds = []
    in_code = False
    for line in lines:
        if CODE_FENCE.match(line):
            in_code = not in_code
            kinds.append(Line.TEXT)
        elif in_code:
            kinds.append(Line.EMPTY if not line.strip() else Line.TEXT)
        else:
            kinds.append(classify(line))
    return "".join(kinds)


def _preprocess(text: str) -> list[str]:
    """Normalise line endings and quote prefixes, drop PGP armour, join wrapped quote headers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _PGP_HEAD.sub("", text.strip())
    start = text.find(_PGP_SIGNATURE)
    end = text.find(_PGP_END, start)
    if start >= 0 and end > start:
        text = text[:start] + text[end + len(_PGP_END) :]
    lines = [_USENET_QUOTE.sub(">", line) for line in text.strip().split("\n")]
    if lines == [""]:
        return []
    return _join_wrapped_headers(lines)


def _join_wrapped_headers(lines: list[str]) -> list[str]:
    """Merge "On Mon, … Someone <a@b>\\n wrote:" (2-5 lines) into one classifiable line."""
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = _wrapped_header_end(lines, i)
        if end > i:
            blocks.append(re.sub(r"\n\s*", " ", "\n".join(lines[i : end + 1])))
            i = end + 1
        else:
            blocks.append(line)
            i += 1
    return blocks


def _wrapped_header_end(lines: list[str], i: int) -> int:
    line = lines[i]
    if len(line) > MAX_MARKER_LINE or not WRAPPED_HEADER_START.search(line):
        return i
    if is_embedded_marker(line) and not _UNCLOSED_ADDRESS.search(line):
        return i
    joined = line
    for j in range(i + 1, min(i + 1 + _MAX_WRAPPED_LINES, len(lines))):
        if is_embedded_marker(lines[j]):
            break
        joined = f"{joined} {lines[j].strip()}".strip()
        if len(joined) > MAX_MARKER_LINE:
            break
        if is_embedded_marker(joined):
            return j
    return i


def _keep_indices(p: str) -> list[int]:
    """Decide which lines to keep from the line-kind string ``p`` (discourse's rules)."""
    idx = list(range(len(p)))

    def cut(end: int) -> None:  # keep lines [0, end)
        nonlocal p, idx
        p, idx = p[:end], idx[:end]

    def drop(kind: str) -> None:
        nonlocal p, idx
        idx = [k for k, c in zip(idx, p, strict=True) if c != kind]
        p = p.replace(kind, "")

    if (d := p.find(Line.DELIMITER)) >= 0:
        cut(d)
    drop(Line.SIGNATURE)

    # The reply sits under an embedded message: keep only the text at the end.
    if re.fullmatch(r"b[bqeh]+t[et]*", p):
        return idx[p.index(Line.TEXT) :]

    # Text, then an embedded-email marker with no quote after it: cut at the marker.
    last_quote = p.rfind(Line.QUOTE)
    if m := re.compile(r"te*b").search(p, last_quote + 1):
        cut(m.start() + 1)

    # Text, then a marker followed by a big quote and little text: cut at the marker.
    if (start := _marker_then_quote(p)) >= 0:
        cut(start + 1)

    # Text, then a quote (or markers) running to the end: drop that tail.
    tail = _suffix_start(p, "qbe")
    if 0 < tail < len(p) and p[tail - 1] == Line.TEXT:
        cut(tail)

    drop(Line.EMBEDDED)
    p = _merge_wrapped_header_fields(p)

    # Three or more header fields after some text start an embedded message.
    if m := re.search(r"t[eq]*h{3}", p):
        cut(m.start() + 1)
    # Leftover header blocks go; a lone "To: be honest…" line is the customer's text.
    p = re.sub(r"(?<!h)h(?!h)", Line.TEXT, p)
    drop(Line.HEADER)

    # Trailing quotes go when there is some text to keep.
    tail = _suffix_start(p, "eq")
    if Line.TEXT in p and tail < len(p):
        cut(tail)
    return idx if p.strip(Line.EMPTY) else []


def _suffix_start(p: str, chars: str) -> int:
    """Index where the longest suffix made only of ``chars`` begins."""
    i = len(p)
    while i > 0 and p[i - 1] in chars:
        i -= 1
    return i


def _marker_then_quote(p: str) -> int:
    """First ``t`` matching discourse's ``te*b[eqbh]*([te]*)$`` if $1 has fewer than 7 ``t``."""
    te_tail = _suffix_start(p, "te")
    for m in re.finditer(r"te*b", p):
        run_end = m.end()
        while run_end < len(p) and p[run_end] in "eqbh":
            run_end += 1
        if run_end >= te_tail:
            return m.start() if p[run_end:].count(Line.TEXT) < 7 else -1
    return -1


def _merge_wrapped_header_fields(p: str) -> str:
    """Mark lines between header fields as headers (discourse's ``h+[hte]+h+e``)."""
    i = 0
    while i < len(p):
        if p[i] not in "hte":
            i += 1
            continue
        run_end = i
        while run_end < len(p) and p[run_end] in "hte":
            run_end += 1
        first_h = p.find(Line.HEADER, i, run_end)
        he = p.rfind("he", i, run_end)
        if first_h >= 0 and he >= first_h + 2:
            return p[:first_h] + Line.HEADER * (he + 2 - first_h) + p[he + 2 :]
        i = run_end
    return p


def trim_html_reply(html: str) -> str:
    """Plain text of what the sender newly wrote in an HTML reply (quote and signature cut)."""
    return trim_reply(html_reply_text(html)).visible
