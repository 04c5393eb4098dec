"""The reply trimmer against the third-party reply corpora in ../shared/corpora.

One test per corpus case, named after its fixture. Where a source's policy differs from ours
(discourse's: signatures go), the case is listed in KNOWN_DIFFERENCES and must keep failing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clientcontact.content.reply_html import html_reply_text
from clientcontact.content.reply_trimmer import TrimmedReply, trim_html_reply, trim_reply
from tests.content import reply_corpora
from tests.content.reply_corpora import (
    CORPORA,
    expectations,
    first_plain_part,
    github_misses,
    read,
)

DISCOURSE = CORPORA / reply_corpora.DISCOURSE / "test"
GITHUB = CORPORA / reply_corpora.GITHUB
TALON = CORPORA / reply_corpora.TALON

MISSING = f"reply corpora not found next to the repo (expected {CORPORA})"
needs_corpora = pytest.mark.skipif(not CORPORA.is_dir(), reason=MISSING)

KNOWN_DIFFERENCES = {
    "talon/iphone.eml": "talon keeps 'Sent from my iPhone'; we strip mobile signatures",
    "talon/sparrow.eml": "talon keeps the '-- ' signature block; we strip it",
    "talon/reply-separated-by-hr.html": "talon also drops the sign-off line 'Bob' above the <hr>",
}


def _case(case_id: str, *values: Any) -> Any:
    marks = []
    if case_id in KNOWN_DIFFERENCES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[case_id]))
    return pytest.param(*values, id=case_id, marks=marks)


def _or_skip(params: list[Any], arity: int) -> list[Any]:
    """Keep the corpus tests visible as skipped, with the reason, when the corpora are absent."""
    if params:
        return params
    return [pytest.param(*[None] * arity, id="no-corpora", marks=pytest.mark.skip(reason=MISSING))]


# --- discourse/email_reply_trimmer: our reference policy, exact visible and elided text ---

DISCOURSE_NAMES = sorted(p.stem for p in (DISCOURSE / "emails").glob("*.txt"))


@pytest.mark.parametrize("name", _or_skip([_case(n, n) for n in DISCOURSE_NAMES], 1))
def test_discourse_trimmed(name: str) -> None:
    result = trim_reply(read(DISCOURSE / "emails" / f"{name}.txt").strip())
    assert result.visible == read(DISCOURSE / "trimmed" / f"{name}.txt").strip()


@pytest.mark.parametrize("name", _or_skip([_case(n, n) for n in DISCOURSE_NAMES], 1))
def test_discourse_elided(name: str) -> None:
    result = trim_reply(read(DISCOURSE / "emails" / f"{name}.txt").strip())
    assert result.elided == read(DISCOURSE / "elided" / f"{name}.txt").strip()


@needs_corpora
@pytest.mark.timeout(5)
def test_backtracking_traps_finish_with_the_right_text() -> None:
    trap = read(DISCOURSE / "matchers" / "does_not_contain_embedded_email.txt")
    assert trim_reply(trap) == TrimmedReply(trap.strip(), "")  # no embedded email in it
    assert trim_reply(trap * 2_000).visible == (trap * 2_000).strip()
    pathological = read(GITHUB / "test" / "emails" / "pathological.txt")
    assert trim_reply(pathological).visible == (
        "I think you're onto something. I will try to fix the problem as soon as I\n"
        "get back to a computer."
    )
    long_quote = trim_reply(read(GITHUB / "test" / "emails" / "email_long_quote.txt"))
    assert long_quote.visible.startswith("Hi folks\n\nWhat is the best way")
    assert "riak-users mailing list" in long_quote.elided


@needs_corpora
def test_crlf_is_normalised() -> None:
    crlf = trim_reply(read(DISCOURSE / "emails" / "normalize_line_endings.txt"))
    assert "\r" not in crlf.visible + crlf.elided
    assert crlf == trim_reply(read(DISCOURSE / "emails" / "normalize_line_endings.txt")
                              .replace("\r\n", "\n"))


# --- github/email_reply_parser and its zapier port ---


@pytest.mark.timeout(5)
@pytest.mark.parametrize(("text", "case"), _or_skip(
    [_case(case_id, text, case) for case_id, text, case in reply_corpora.github_cases()], 2))
def test_github_reply(text: str, case: dict[str, Any]) -> None:
    assert github_misses(case, trim_reply(text).visible) == []


# --- mailgun/talon: plain replies from real clients, HTML replies ---


def _talon_cases(kind: str) -> list[Any]:
    return [
        _case(f"talon/{Path(c['file']).name}", c)
        for c in expectations(TALON)["cases"]
        if c["kind"] == kind
    ]


@pytest.mark.parametrize("case", _or_skip(_talon_cases("plain_reply"), 1))
def test_talon_plain_reply(case: dict[str, Any]) -> None:
    path = TALON / case["file"]
    if "expected_reply" in case:
        assert trim_reply(first_plain_part(path.read_bytes())).visible == case["expected_reply"]
    else:  # reply-quotations-share-block.eml: the whole raw message goes in
        visible = trim_reply(read(path)).visible
        assert visible
        assert not any(n in visible for n in case["expected_reply_not_contains"])


@needs_corpora
@pytest.mark.parametrize("name", ["iphone.eml", "sparrow.eml"])
def test_talon_signature_replies_follow_our_policy(name: str) -> None:
    raw = (TALON / "tests" / "fixtures" / "standard_replies" / name).read_bytes()
    assert trim_reply(first_plain_part(raw)).visible == "Hello"


@pytest.mark.parametrize("case", _or_skip(_talon_cases("html_reply"), 1))
def test_talon_html_reply(case: dict[str, Any]) -> None:
    expected = case.get("expected_reply_text") or html_reply_text(case["expected_html"])
    got = trim_html_reply(read(TALON / case["file"]))
    assert re.sub(r"\s", "", got) == re.sub(r"\s", "", expected)


# --- behaviour the corpora do not pin down ---


def test_result_is_frozen_and_empty_input_is_empty() -> None:
    result = trim_reply("  \n ")
    assert result == TrimmedReply("", "")
    with pytest.raises(AttributeError):
        result.visible = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        pytest.param(
            "Hallo,\r\n\r\nja passt.\r\n\r\nAm Mo., 5. Jan. 2026 um 10:00 Uhr schrieb Jane <\r\n"
            "jane@example.com>:\r\n\r\n> Hallo\r\n",
            "Hallo,\n\nja passt.",
            id="crlf-german-header-wrapped-over-two-lines",
        ),
        pytest.param(
            "Oui merci\n\nLe lun. 5 janv. 2026 à 10:00, Jane <jane@example.com> a\n"
            "écrit :\n\n> Bonjour",
            "Oui merci",
            id="french-header-wrapped",
        ),
        pytest.param(
            "Yes please.\n\nFrom: Bob <bob@example.com>\nSent: Monday, January 5, 2026 10:00 AM\n"
            "To: Ann <ann@example.com>\nSubject: Re: order\n\nOld text",
            "Yes please.",
            id="outlook-header-block-without-separator",
        ),
        pytest.param(
            "My order is late.\nTo: be honest I am upset.\nThanks",
            "My order is late.\nTo: be honest I am upset.\nThanks",
            id="a-lone-header-like-line-is-text",
        ),
        pytest.param(
            "Sent by courier yesterday.\nTracking: 42\n\nSent from my iPhone",
            "Sent by courier yesterday.\nTracking: 42",
            id="only-the-mobile-tagline-goes",
        ),
        pytest.param(
            "Try this:\n```\n--\n> not a quote\n```\nBye",
            "Try this:\n```\n--\n> not a quote\n```\nBye",
            id="code-fences-are-never-cut",
        ),
    ],
)
def test_behaviour_beyond_the_corpora(text: str, visible: str) -> None:
    assert trim_reply(text).visible == visible


@pytest.mark.timeout(5)
def test_adversarial_inputs_stay_linear() -> None:
    header_soup = "On " + "x " * 100_000 + "\n" + "> On a\n" * 20_000 + "wrote"
    assert trim_reply(header_soup).visible.startswith("On x x")
    assert trim_reply("From: a\n" * 20_000 + "hello").visible == "hello"
    assert trim_reply("Hi\n\n" + "> quoted\n" * 20_000).visible == "Hi"
    wrapped = ("On 1 2 3 4 " * 40 + "\n") * 5_000
    assert trim_reply(wrapped).visible == wrapped.strip()
