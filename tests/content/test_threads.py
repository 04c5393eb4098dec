"""Messages group into the threads a reader expects, and hostile References never hang us."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from clientcontact.content.threads import (
    ThreadableMessage,
    normalize_subject,
    reply_depth,
    thread_messages,
    walk,
)

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
CASES = CORPORA / "mailkit-threading" / "threading_cases.json"
# MailKit's expected output drops the messages whose References form cycles (README: require
# only termination for them, not their loss). They reference only each other, so the expected
# forest is exactly what the remaining messages thread into.
CYCLE_SUBJECTS = {"Loop1", "Loop2", "Loop3", "Loop7", "Loop8", "Loop10"}

pytestmark = pytest.mark.skipif(not CASES.exists(), reason=f"corpus not found at {CASES}")


def _corpus() -> dict:
    return json.loads(CASES.read_text(encoding="utf-8")) if CASES.exists() else {}


def _messages(case: dict, *, drop_cycles: bool) -> list[ThreadableMessage]:
    return [
        ThreadableMessage(
            message_id=m["message_id"],
            subject=m["subject"],
            references=tuple(m["references"]),
            date=parsedate_to_datetime(m["date"]),
            key=m["index"],
        )
        for m in case["messages"]
        if not (drop_cycles and m["subject"] in CYCLE_SUBJECTS)
    ]


def _printed(roots) -> str:
    return "\n".join(
        "   " * depth + (node.message.subject if node.message else "dummy")
        for node, depth in walk(roots)
    )


@pytest.mark.parametrize("case", _corpus().get("cases", []), ids=lambda c: c["name"])
def test_mailkit_forest(case: dict) -> None:
    algorithm = "subject" if case["algorithm"] == "OrderedSubject" else "references"
    roots = thread_messages(_messages(case, drop_cycles=True), algorithm=algorithm)
    assert _printed(roots) == case["expected_text"].rstrip("\n")


@pytest.mark.parametrize("case", _corpus().get("cases", []), ids=lambda c: c["name"])
def test_every_message_survives_including_reference_cycles(case: dict) -> None:
    messages = _messages(case, drop_cycles=False)
    roots = thread_messages(messages)
    kept = sorted(node.message.key for node, _ in walk(roots) if node.message)
    assert kept == sorted(m.key for m in messages)


@pytest.mark.parametrize(
    "example", _corpus().get("subject_normalization", []), ids=lambda e: e["input"].strip()
)
def test_subject_normalization(example: dict) -> None:
    assert normalize_subject(example["input"]) == example["normalized"]
    assert reply_depth(example["input"]) == example["reply_depth"]


def test_a_very_deep_chain_threads_without_recursion() -> None:
    depth = 3_000  # far past the interpreter recursion limit; the cycle checks are O(depth)
    messages = [
        ThreadableMessage(f"<m{i}>", "deep", tuple(f"<m{j}>" for j in range(max(0, i - 3), i)))
        for i in range(depth)
    ]
    roots = thread_messages(messages)
    assert len(roots) == 1
    assert max(level for _, level in walk(roots)) == depth - 1


def test_missing_message_ids_and_empty_subjects_are_kept_apart() -> None:
    messages = [ThreadableMessage(None, ""), ThreadableMessage(None, ""), ThreadableMessage("<a>")]
    assert len(thread_messages(messages)) == 3
