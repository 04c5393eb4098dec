"""Making inbound HTML safe to show, and turning HTML into plain text.

Policy (nh3, an allowlist): the formatting mail actually uses (tables, lists, quotes, fonts) is
kept; scripts, forms, frames, embeds and event handlers are not. Inline `style` is kept because
mail layout lives in it, but only through nh3's CSS property allowlist below and only when the
value holds no `url(`, `expression(`, `@import` or escapes. Links open in a new tab without a
referrer. `cid:` images stay so the UI can map them to stored attachments; remote images are
tracking pixels until the agent asks for them, so their URL moves to `data-blocked-src`.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "title", "lang", "dir", "align", "valign", "role", "aria-label", "aria-hidden"},
    "a": {"href", "hreflang", "name"},
    "font": {"color", "face", "size"},
    "table": {"align", "border", "cellpadding", "cellspacing", "width", "bgcolor", "summary"},
    "td": {"align", "colspan", "rowspan", "width", "height", "bgcolor", "nowrap", "headers"},
    "th": {"align", "colspan", "rowspan", "width", "height", "bgcolor", "scope", "headers"},
}
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style",
    "font-weight", "text-align", "text-decoration", "text-indent", "text-transform",
    "line-height", "letter-spacing", "white-space", "vertical-align", "direction",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-style", "border-width", "border-collapse", "border-spacing", "border-radius",
    "width", "height", "max-width", "min-width", "display", "list-style-type",
}  # fmt: skip
_DANGEROUS_STYLE = re.compile(r"url\s*\(|expression|@import|javascript:|behavior|\\", re.I)
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
# nh3 serialises attributes as name="value" with `"` escaped, so this matches whole img tags.
_IMG_TAG = re.compile(r'<img(?:\s+[^\s=>/"]+(?:="[^"]*")?)*\s*/?>')
_REMOTE_SRC = re.compile(r'\ssrc="((?:https?:)?//[^"]*)"', re.I)


@dataclass(frozen=True)
class SanitizedHtml:
    html: str
    blocked_images: int  # remote images withheld; the UI offers to load them


def sanitize_html(html: str, *, allow_remote_images: bool = False) -> SanitizedHtml:
    """HTML that is safe to render in the agent's browser (still inside a sandboxed frame)."""
    cleaned = nh3.clean(
        html or "",
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        filter_style_properties=_STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        link_rel="noopener noreferrer",
    )
    if allow_remote_images:
        return SanitizedHtml(cleaned, 0)
    blocked = 0

    def block(tag: re.Match[str]) -> str:
        nonlocal blocked
        rewritten, count = _REMOTE_SRC.subn(r' data-blocked-src="\1"', tag.group(0))
        blocked += count
        return rewritten

    return SanitizedHtml(_IMG_TAG.sub(block, cleaned), blocked)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style" and _DANGEROUS_STYLE.search(value):
        return None
    return value


_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "blockquote", "pre", "hr", "ul", "ol", "section", "article", "header", "footer",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    """Visible text with line breaks where blocks end. The stdlib parser never raises on bad
    HTML; a full renderer (html2text, inscriptis) would be a dependency for little gain here."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: for previews, search and text/plain derivation."""
    parser = _TextExtractor()
    try:
        parser.feed(html or "")
        parser.close()
    except AssertionError:  # HTMLParser (3.11) asserts on some "<![" sections: strip tags then
        return html_lib.unescape(re.sub(r"<[^>]*>", " ", html or "")).strip()
    lines = [line.strip() for line in "".join(parser.chunks).replace("\xa0", " ").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
