"""The shared reply corpora (../shared/corpora): where they are, how to read their files, and
how a github/zapier expectation judges a visible reply. The tests and bench/reply_parsers.py
both score against these, so both read the expectations the same way."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path
from typing import Any

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
DISCOURSE = "discourse-email_reply_trimmer"
GITHUB = "github-email_reply_parser"
ZAPIER = "zapier-email-reply-parser"
TALON = "mailgun-talon"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def expectations(folder: Path) -> dict[str, Any]:
    path = folder / "expectations.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"cases": []}


def first_plain_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=policy.default)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_content())  # type: ignore[attr-defined]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def github_cases(root: Path = CORPORA) -> list[tuple[str, str, dict[str, Any]]]:
    """(case id, input text, expectation) for the github corpus and its zapier port."""
    cases = []
    for name in (GITHUB, ZAPIER):
        folder = root / name
        spec = expectations(folder)
        prefix = name.split("-")[0]
        for case in spec["cases"]:
            base = root / GITHUB if case.get("dir") == "github" else folder
            cases.append((f"{prefix}/{Path(case['file']).name}", read(base / case["file"]), case))
        for n, case in enumerate(spec.get("inline_cases", [])):
            cases.append((f"{prefix}/inline_{n}", case["input"], case))
    return cases


def github_misses(case: dict[str, Any], visible: str) -> list[str]:
    """What `visible` gets wrong against one github/zapier expectation; empty when right."""
    misses = []
    if "visible_text" in case and visible != case["visible_text"]:
        misses.append("visible_text differs")
    if "reply_stripped" in case and visible.strip() != case["reply_stripped"]:
        misses.append("reply_stripped differs")
    misses += [f"lost {n!r}" for n in case.get("reply_contains", []) if n not in visible]
    misses += [f"kept {n!r}" for n in case.get("reply_not_contains", []) if n in visible]
    # Fragment flags describe github's Fragment API. The policy-neutral part: the first
    # fragment, when shown, is kept; fragments flagged quoted and hidden are gone.
    hidden, quoted = case.get("hidden", []), case.get("quoted", [])
    for index, expect in case.get("fragments", {}).items():
        i = int(index)
        if i == 0 and not (hidden and hidden[0]) and not (quoted and quoted[0]):
            must_show = True
        elif i < len(quoted) and hidden[i] and quoted[i]:
            must_show = False
        else:
            continue
        for kind, value in expect.items():
            if kind == "matches" and not must_show:
                continue  # a bare "^> " would also hit inline quotes we keep on purpose
            found = (re.search(value, visible, re.M) is not None if kind == "matches"
                     else squash(value) in squash(visible))
            if found is not must_show:
                misses.append(f"fragment {i} {kind} {value!r} {'lost' if must_show else 'kept'}")
    return misses
