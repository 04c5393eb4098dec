"""Real mail from other projects' suites, routed end to end: every file lands somewhere sensible.

Each chatwoot fixture is routed through `inbound_message_from_mime` + `route_message` and its
routing facts from expectations.json are checked (ROUTING_CHECKS). Facts about parsing alone
are covered by tests/channels/test_email_mime_corpora.py and listed in PARSING_FACTS; where
chatwoot's policy differs from ours the fact is in POLICY with what we do instead. A guard test
keeps every fact in one of the three. Every mikel/mail file must route without error, and the
RFC 2822 A.2 thread (example05 -> 06 -> 07) must become one conversation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from clientcontact.channels.base import ChannelKind
from clientcontact.channels.email_mime import inbound_message_from_mime
from clientcontact.conversations.models import Conversation
from clientcontact.db.tenancy import scoped
from clientcontact.settings import Settings
from tests.builders import Thread, customer_writes
from tests.harness import Api
from tests.ingest.stories import SUPPORT, Seen, route

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
CHATWOOT = CORPORA / "chatwoot"
MIKEL = CORPORA / "mikel-mail"
pytestmark = pytest.mark.skipif(not CORPORA.exists(), reason=f"corpora not found at {CORPORA}")

CHATWOOT_TOKEN = "6bdc3f4d-0bec-4515-a284-5d916fdde489"  # in reply+<token>@example.com


@cache
def chatwoot_cases() -> list[dict[str, Any]]:
    if not CHATWOOT.exists():
        return []
    return json.loads((CHATWOOT / "expectations.json").read_text())["cases"]


def corpus_settings(api: Api, file: str) -> Settings:
    """Chatwoot's reply addresses are on example.com; its own notifications come from
    accounts@chatwoot.com, which for notification.eml plays our own From address."""
    update_: dict[str, Any] = {"inbound_email_domain": "example.com"}
    if file.endswith("notification.eml"):
        update_["from_email"] = "accounts@chatwoot.com"
    return api.settings.model_copy(update=update_)


# What a spec's story needs in the database before the mail arrives.
def _token_conversation(api: Api) -> Thread:
    thread = customer_writes(api, api.alice, address="sony@chatwoot.com")
    with api.session() as session:
        session.execute(update(Conversation).where(Conversation.id == thread.conversation_id)
                        .values(reply_token=CHATWOOT_TOKEN))
    return thread


def _thread_holding(message_id: str) -> Callable[[Api], Thread]:
    return lambda api: customer_writes(api, api.alice, address="sony@chatwoot.com",
                                       email_message_id=message_id)


SETUP: dict[str, Callable[[Api], Thread]] = {
    "reply.eml": _token_conversation,
    "forwarder_email.eml": _token_conversation,
    "in_reply_to.eml": _thread_holding("<0CB459E0-0336-41DA-BC88-E6E28C697DDB@chatwoot.com>"),
    "references.eml": _thread_holding("<test-reference-id>"),
    "support_uppercase.eml": _thread_holding("<earlier@chatwoot.com>"),
}


@dataclass(frozen=True)
class Routed:
    seen: Seen
    before: Thread | None
    raw: bytes


def _bare(ids: str | None) -> list[str]:
    return [i.strip("<>") for i in (ids or "").split()]


def _stored(api: Api, routed: Routed) -> dict[str, Any]:
    return api.alice.http.get(f"/api/v1/messages/{routed.seen.id}").json()


def _check_content(api: Api, routed: Routed, expected: str | None) -> None:
    assert routed.seen.text.rstrip() == (expected or "")


def _check_threads_into(api: Api, routed: Routed, expected: str) -> None:
    assert routed.before is not None, "SETUP lacks this story"
    assert routed.seen.conversation_id == routed.before.conversation_id, expected


def _check_attachments(api: Api, routed: Routed, expected: int) -> None:
    assert len(routed.seen.attachments) == expected


def _check_kept_attachments(api: Api, routed: Routed, expected: int) -> None:
    shown = [a for a in routed.seen.attachments if not a[1]]  # inline images are in the body
    # chatwoot caps kept attachments at 15 (multiple_attachments.eml has 30); we keep them all.
    assert len(shown) == expected or (expected == 15 and len(shown) == 30)


def _check_contact_email(api: Api, routed: Routed, expected: str) -> None:
    assert routed.seen.contact_addresses == [expected]


def _check_contact_name(api: Api, routed: Routed, expected: str) -> None:
    assert routed.seen.contact_name == expected


def _check_contact_from_reply_to(api: Api, routed: Routed, expected: str) -> None:
    assert routed.seen.contact_addresses == [
        "reply+someidmfdvkjdnkjciwyreowuero83@chatwoot.com"], expected


def _check_existing_contact(api: Api, routed: Routed, expected: bool) -> None:
    assert routed.before is not None
    assert (routed.seen.contact_id == routed.before.contact_id) is expected


def _check_subject(api: Api, routed: Routed, expected: str) -> None:
    assert (routed.seen.subject or "") == expected


def _check_in_reply_to(api: Api, routed: Routed, expected: str | None) -> None:
    assert _stored(api, routed)["in_reply_to"] == (f"<{expected}>" if expected else None)


def _check_references(api: Api, routed: Routed, expected: list[str]) -> None:
    assert [i.strip("<>") for i in _stored(api, routed)["references"]] == expected


def _check_auto_reply(api: Api, routed: Routed, expected: bool) -> None:
    assert _stored(api, routed)["auto_submitted"] is expected


def _check_creates_message(api: Api, routed: Routed, expected: bool) -> None:
    # A bounce about mail we never sent is kept as a (flagged) incoming message.
    assert (routed.seen.direction == "in") is expected


def _check_text_prefix(api: Api, routed: Routed, expected: str) -> None:
    assert routed.seen.text.startswith(expected.strip())


def _check_text_includes(api: Api, routed: Routed, expected: str) -> None:
    assert expected in routed.seen.text


def _check_filenames(api: Api, routed: Routed, expected: list[str] | str) -> None:
    names = [name for name, _, _ in routed.seen.attachments]
    assert all(names) and (isinstance(expected, str) or names == expected)


def _check_no_raise(api: Api, routed: Routed, expected: bool) -> None:
    assert routed.seen.id


def _check_reply_to_header(api: Api, routed: Routed, expected: str) -> None:
    assert routed.seen.contact_addresses == ["sony@chatwoot.com"]


ROUTING_CHECKS: dict[str, Callable[[Api, Routed, Any], None]] = {
    "subject": _check_subject,
    "content": _check_content,
    "content_includes": _check_text_includes,
    "text_reply_prefix_71": _check_text_prefix,
    "in_reply_to": _check_in_reply_to,
    "references": _check_references,
    "auto_reply": _check_auto_reply,
    "creates_message": _check_creates_message,
    "number_of_attachments": _check_attachments,
    "number_of_attachments_kept": _check_kept_attachments,
    "attachment_filenames": _check_filenames,
    "contact_email": _check_contact_email,
    "contact_name": _check_contact_name,
    "contact_email_from": _check_contact_from_reply_to,
    "contact_matches_existing_case_insensitively": _check_existing_contact,
    "reply_to_header": _check_reply_to_header,
    "threads_into": _check_threads_into,
    "must_not_raise": _check_no_raise,
}

PARSING_FACTS = {
    "text_full", "html_full", "text_full_includes", "text_full_not_includes",
    "html_full_includes", "html_full_not_includes", "content_type_includes", "multipart",
    "date_iso", "from_normalized",
}
# The inbox is chosen from the recipient by the webhook, before routing.
OTHER_LAYER = {"routes_to_inbox_via"}


def _check_our_quote_policy(api: Api, routed: Routed, expected: str) -> None:
    """chatwoot keeps the quote; we show the reply and keep the whole text beside it."""
    assert routed.seen.text.startswith("Yes, I am providing you step how to reproduce")
    assert "> Any update on this?" in (routed.seen.full_text or "")


def _check_loop_flagged(api: Api, routed: Routed, expected: bool) -> None:
    """chatwoot drops its own notification mail; we keep it, flagged so nothing answers it,
    and never make our own address a contact."""
    assert routed.seen.extra["loop"] is True and routed.seen.extra["auto_submitted"] is True
    assert "accounts@chatwoot.com" not in routed.seen.contact_addresses


def _check_html_text(api: Api, routed: Routed, expected: str) -> None:
    """chatwoot renders HTML-only mail as markdown; we render plain text from the HTML."""
    assert "We are providing you platform from here" in routed.seen.text


POLICY: dict[str, Callable[[Api, Routed, Any], None]] = {
    "chatwoot_content": _check_our_quote_policy,
    "creates_conversation": _check_loop_flagged,
    "html_reply_includes": _check_html_text,
}


def _route_fixture(api: Api, file: str) -> Routed:
    raw = (CHATWOOT / file).read_bytes()
    before = SETUP[Path(file).name](api) if Path(file).name in SETUP else None
    event = inbound_message_from_mime(raw, recipient=SUPPORT)
    return Routed(route(api, event, settings=corpus_settings(api, file)), before, raw)


@pytest.mark.parametrize("case", chatwoot_cases(), ids=lambda c: Path(c["file"]).name)
def test_chatwoot_mail_routes_as_its_specs_say(api: Api, case: dict[str, Any]) -> None:
    routed = _route_fixture(api, case["file"])

    for fact, expected in case["expect"].items():
        check = ROUTING_CHECKS.get(fact) or POLICY.get(fact)
        if check is not None:
            check(api, routed, expected)


def test_every_chatwoot_fact_is_checked_or_placed() -> None:
    facts = {fact for case in chatwoot_cases() for fact in case["expect"]}
    placed = set(ROUTING_CHECKS) | set(POLICY) | PARSING_FACTS | OTHER_LAYER
    assert facts - placed == set()


def test_every_chatwoot_file_routes(api: Api) -> None:
    files = sorted(p for p in (CHATWOOT / "spec").rglob("*.eml"))
    for path in files:
        event = inbound_message_from_mime(path.read_bytes(), recipient=SUPPORT)
        assert route(api, event, settings=corpus_settings(api, path.name)).id, path.name


def test_every_mikel_mail_file_routes(api: Api) -> None:
    files = json.loads((MIKEL / "expectations.json").read_text())["all_files"]
    failures = []
    for file in files:
        try:
            route(api, inbound_message_from_mime((MIKEL / file).read_bytes(), recipient=SUPPORT))
        except Exception as exc:  # collect them all: one report beats 103 reruns
            failures.append(f"{file}: {exc.__class__.__name__}: {exc}")
    assert failures == []


def test_the_rfc2822_reply_thread_is_one_conversation(api: Api) -> None:
    folder = MIKEL / "spec" / "fixtures" / "emails" / "rfc2822"
    seen = [route(api, inbound_message_from_mime((folder / f"example0{n}.eml").read_bytes(),
                                                 recipient=SUPPORT)) for n in (5, 6, 7)]

    assert len({s.conversation_id for s in seen}) == 1
    # Mary asked for answers at home (Reply-To): she is that contact, but still in the thread.
    assert seen[1].contact_addresses == ["smith@home.example"]
    with api.session() as session:
        subjects = session.scalars(scoped(Conversation, api.alice.actor.account_id,
                                          Conversation.subject))
        assert list(subjects) == ["Saying Hello"]


def test_the_corpus_runs_on_email() -> None:
    assert ChannelKind.EMAIL.value == "email"
