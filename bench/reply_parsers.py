"""Score maintained Python reply parsers and ours on the shared reply corpora.

Run from the repo root: ``.venv/bin/python bench/reply_parsers.py`` (install the candidates
first: ``.venv/bin/pip install email-reply-parser mail-parser-reply talon``). Prints a markdown
table. The corpora live in ``../shared/corpora`` next to the repo (override with
``--corpora``). Every parse runs in a worker process with a time limit, so a parser that hangs
on a pathological input scores a miss instead of stalling the bench. Nothing here is imported
by the tests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.content import reply_corpora  # noqa: E402 - after the path is set
from tests.content.reply_corpora import CORPORA as DEFAULT_CORPORA  # noqa: E402
from tests.content.reply_corpora import first_plain_part, github_misses, read  # noqa: E402

TIME_LIMIT = 10.0


# --- the parsers under test: text in, visible reply out (None = cannot do this input) ---


def ours_text(text: str) -> str:
    from clientcontact.content.reply_trimmer import trim_reply

    return trim_reply(text).visible


def ours_html(html: str) -> str:
    from clientcontact.content.reply_trimmer import trim_html_reply

    return trim_html_reply(html)


def zapier_text(text: str) -> str:
    from email_reply_parser import EmailReplyParser

    return EmailReplyParser.parse_reply(text) or ""


def mail_parser_reply_text(text: str) -> str:
    from mailparser_reply import EmailReplyParser
    from mailparser_reply.constants import MAIL_LANGUAGES

    return EmailReplyParser(languages=list(MAIL_LANGUAGES)).parse_reply(text) or ""


def talon_text(text: str) -> str:
    from talon import quotations

    return quotations.extract_from_plain(text)


def talon_html(html: str) -> str:
    from talon import quotations

    return _html_to_text(quotations.extract_from_html(html))


@dataclass(frozen=True)
class Candidate:
    name: str
    package: str
    text: Callable[[str], str]
    html: Callable[[str], str] | None = None


CANDIDATES = (
    Candidate("email-reply-parser (zapier)", "email_reply_parser", zapier_text),
    Candidate("mail-parser-reply (all languages)", "mailparser_reply", mail_parser_reply_text),
    Candidate("talon", "talon", talon_text, talon_html),
    Candidate("clientcontact (ours)", "clientcontact", ours_text, ours_html),
)


class _Text(HTMLParser):
    """Neutral HTML-to-text for scoring: drops tags, style and script, cuts nothing else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.skip += tag in ("style", "script", "head")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script", "head") and self.skip > 0

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


# --- the corpora as (set, case id, input kind, input, check) ---


@dataclass(frozen=True)
class Case:
    corpus: str
    name: str
    kind: str  # "text" or "html"
    source: str
    check: Callable[[str, float], bool]


def discourse_cases(root: Path) -> list[Case]:
    base = root / reply_corpora.DISCOURSE / "test"
    cases = []
    for path in sorted((base / "emails").glob("*.txt")):
        expected = read(base / "trimmed" / path.name).strip()
        cases.append(Case("discourse", path.stem, "text", read(path).strip(),
                          lambda got, _s, e=expected: got.strip() == e))
    return cases


def github_cases(root: Path) -> list[Case]:
    return [Case("github", name, "text", source,
                 lambda got, seconds, c=case: seconds <= c.get("max_seconds", TIME_LIMIT)
                 and not github_misses(c, got))
            for name, source, case in reply_corpora.github_cases(root)]


def talon_cases(root: Path) -> list[Case]:
    base = root / reply_corpora.TALON
    spec = reply_corpora.expectations(base)
    cases = []
    for case in spec["cases"]:
        path, name = base / case["file"], Path(case["file"]).name
        if case["kind"] == "plain_reply" and "expected_reply" in case:
            cases.append(Case("talon", name, "text", first_plain_part(path.read_bytes()),
                              lambda got, _s, e=case["expected_reply"]: got.strip() == e))
        elif case["kind"] == "plain_reply":
            cases.append(Case("talon", name, "text", read(path),
                              lambda got, _s, c=case: bool(got.strip()) and not any(
                                  n in got for n in c["expected_reply_not_contains"])))
        elif case["kind"] == "html_reply":
            expected = case.get("expected_reply_text") or _html_to_text(case["expected_html"])
            cases.append(Case("talon-html", name, "html", read(path),
                              lambda got, _s, e=expected: re.sub(r"\s", "", got)
                              == re.sub(r"\s", "", e)))
    return cases


# --- running ---


def _run(fn: Callable[[str], str], source: str) -> tuple[str, float]:
    start = time.perf_counter()
    got = fn(source)
    return got, time.perf_counter() - start


def score(candidate: Candidate, cases: list[Case]) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    pool = multiprocessing.get_context("fork").Pool(1)
    for case in cases:
        fn = candidate.html if case.kind == "html" else candidate.text
        passed, total = totals.get(case.corpus, (0, 0))
        if fn is None:
            totals[case.corpus] = (passed, total)
            continue
        try:
            got, seconds = pool.apply_async(_run, (fn, case.source)).get(TIME_LIMIT)
            ok = case.check(got, seconds)
        except multiprocessing.TimeoutError:
            pool.terminate()
            pool = multiprocessing.get_context("fork").Pool(1)
            ok = False
        except Exception:  # a crash on an input is a miss, not the end of the bench
            ok = False
        totals[case.corpus] = (passed + ok, total + 1)
    pool.terminate()
    return totals


def _installed(package: str) -> str | None:
    try:
        __import__(package)
    except Exception as exc:  # talon pulls in numpy/scipy/sklearn and can fail to import
        return f"not importable: {type(exc).__name__}: {exc}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="html5lib")  # talon's parser chatters on Outlook
    cases = discourse_cases(args.corpora) + github_cases(args.corpora) + talon_cases(args.corpora)
    columns = ("discourse", "github", "talon", "talon-html")
    print("| parser | discourse | github + zapier | talon plain | talon HTML |")
    print("|---|---|---|---|---|")
    for candidate in CANDIDATES:
        if problem := _installed(candidate.package):
            print(f"| {candidate.name} | {problem} | | | |")
            continue
        totals = score(candidate, cases)
        cells = []
        for column in columns:
            passed, total = totals.get(column, (0, 0))
            cells.append(f"{passed}/{total}" if total else "n/a (text only)")
        print(f"| {candidate.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
