"""Inbound HTML shown to an agent can never run code, and ordinary mail keeps its words."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clientcontact.content.sanitize import html_to_text, sanitize_html

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
VECTORS = CORPORA / "dompurify-xss" / "xss_vectors.json"

FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "base", "meta", "form"}
DANGEROUS_URL = re.compile(r"^(javascript|vbscript|data:text/html)", re.I)
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "background", "poster", "data",
    "dynsrc", "lowsrc", "codebase", "cite", "srcset", "ping", "longdesc", "usemap", "manifest",
}  # fmt: skip


def _vectors() -> list[dict]:
    if not VECTORS.exists():
        return []
    return json.loads(VECTORS.read_text(encoding="utf-8"))


class _Audit(HTMLParser):
    """Every way the corpus README's pass rule can be broken, read off the parsed output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        self.in_style = tag == "style"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            url = re.sub(r"[\s\x00-\x1f]", "", value or "")
            if name in URL_ATTRIBUTES and DANGEROUS_URL.match(url):
                self.problems.append(f"{name}={value!r}")
            if name == "style" and re.search(r"expression\(|@import", value or "", re.I):
                self.problems.append(f"style={value!r}")

    def handle_data(self, data: str) -> None:
        if self.in_style and re.search(r"expression\(|@import", data, re.I):
            self.problems.append("<style> with expression/@import")


def _problems(html: str) -> list[str]:
    audit = _Audit()
    try:
        audit.feed(html)
        audit.close()
    except AssertionError:  # Python 3.11's HTMLParser gives up on some marked sections
        return ["unparsable by html.parser"]
    if re.search(r"<\s*script", html, re.I):
        audit.problems.append("<script")
    return audit.problems


def _words(html: str) -> set[str]:
    return set(re.findall(r"\w{3,}", html_to_text(html)))


def _id(vector: dict) -> str:
    return re.sub(r"\W+", "_", str(vector.get("title") or ""))[:60] or "untitled"


def _is_benign(vector: dict) -> bool:
    """Benign: DOMPurify (in every browser) keeps every word of the payload."""
    expected = vector.get("expected")
    outputs = expected if isinstance(expected, list) else [expected]
    words = _words(vector["payload"])
    return bool(words) and all(words <= _words(str(out or "")) for out in outputs)


@pytest.mark.skipif(not VECTORS.exists(), reason=f"corpus not found at {VECTORS}")
@pytest.mark.parametrize("vector", _vectors(), ids=_id)
def test_no_dompurify_vector_survives_sanitizing(vector: dict) -> None:
    for allow in (False, True):
        output = sanitize_html(vector["payload"], allow_remote_images=allow).html
        assert _problems(output) == [], output


@pytest.mark.skipif(not VECTORS.exists(), reason=f"corpus not found at {VECTORS}")
@pytest.mark.parametrize(
    "vector",
    [v for v in _vectors() if _is_benign(v)],
    ids=_id,
)
def test_benign_markup_keeps_its_text(vector: dict) -> None:
    """Where DOMPurify keeps all the words, so do we: the text is what the agent reads."""
    output = sanitize_html(vector["payload"]).html
    assert _words(vector["payload"]) <= _words(output)


def test_remote_images_are_blocked_until_allowed() -> None:
    html = '<p>Hi</p><img src="https://tracker.example/p.gif" alt="x"><img src="//cdn.example/a">'
    blocked = sanitize_html(html)
    assert blocked.blocked_images == 1  # the protocol-relative one is dropped as a relative URL
    assert "src=" not in blocked.html.replace("data-blocked-src=", "")
    assert 'data-blocked-src="https://tracker.example/p.gif"' in blocked.html
    allowed = sanitize_html(html, allow_remote_images=True)
    assert allowed.blocked_images == 0
    assert 'src="https://tracker.example/p.gif"' in allowed.html


def test_inline_cid_images_stay_for_the_ui_to_map() -> None:
    output = sanitize_html('<img src="cid:ii_lm7fuura0" alt="poster">')
    assert 'src="cid:ii_lm7fuura0"' in output.html
    assert output.blocked_images == 0


def test_links_open_in_a_new_tab_without_referrer() -> None:
    output = sanitize_html('<a href="https://example.com/x" target="_self">site</a>').html
    assert 'target="_blank"' in output
    assert 'rel="noopener noreferrer"' in output


def test_layout_styles_survive_but_dangerous_ones_do_not() -> None:
    safe = sanitize_html('<p style="color: red; position: fixed">x</p>').html
    assert "color:red" in safe.replace(" ", "") and "position" not in safe
    for style in ("background: url(https://t.example/p)", "width: expression(alert(1))"):
        assert "style" not in sanitize_html(f'<div style="{style}">x</div>').html


def test_tables_lists_and_quotes_survive() -> None:
    html = "<table><tr><td>a</td></tr></table><ul><li>b</li></ul><blockquote>c</blockquote>"
    output = sanitize_html(html).html
    for tag in ("<table>", "<td>", "<li>", "<blockquote>"):
        assert tag in output


def test_html_to_text_keeps_paragraphs_and_drops_markup() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Hi&nbsp;there,</p><p>Thanks<br>Alex"
    assert html_to_text(html) == "Hi there,\n\nThanks\nAlex"
