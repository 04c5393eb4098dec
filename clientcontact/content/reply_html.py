"""Turn an HTML email reply into plain text, leaving out the quoted original.

Mail clients mark the quoted part structurally (Gmail's ``div.gmail_quote``, Outlook's
``#divRplyFwdMsg`` / ``OLK_SRC_BODY_SECTION`` / a top-bordered header block, Hotmail's ``<hr>``,
Thunderbird's ``moz-cite-prefix``, ``<blockquote>`` everywhere), so we cut on the markup before
flattening; the plain-text trimmer then removes whatever header lines remain. Built on the stdlib
``html.parser`` so it adds no dependency and never builds a tree: one pass, linear in the input.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements after which everything is the quoted original (the reply is on top).
_CUT_CLASSES = frozenset({"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg"})
_CUT_IDS = frozenset({"divrplyfwdmsg", "olk_src_body_section", "stopspelling", "appendonsend"})
_TOP_BORDER = re.compile(r"border-top\s*:\s*solid|border-top-style\s*:\s*solid", re.I)
# Elements whose content is skipped but after which the reply may continue (inline answers).
_SKIP_TAGS = frozenset({"blockquote", "style", "script", "head", "title"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
)
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "base", "col", "wbr"})


class _ReplyText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.skip_depth:
            if tag not in _VOID_TAGS:
                self.skip_depth += 1
            return
        if _starts_quote(tag, dict(attrs)):
            self.done = True
        elif tag in _SKIP_TAGS:
            self.skip_depth = 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if self.skip_depth:
            if tag not in _VOID_TAGS:
                self.skip_depth -= 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.done and not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def _starts_quote(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag == "hr":
        return True
    classes = set((attrs.get("class") or "").lower().split())
    ident = (attrs.get("id") or "").lower()
    if classes & _CUT_CLASSES or ident in _CUT_IDS:
        return True
    return tag == "div" and bool(_TOP_BORDER.search(attrs.get("style") or ""))


def html_reply_text(html: str) -> str:
    """Plain text of the part of ``html`` above the quoted original, one block per line."""
    parser = _ReplyText()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
