"""The guard: every provider fixture is used by a test, and every event kind an adapter names in
HANDLED or IGNORED has a fixture showing it. A new table line without a fixture, or a fixture
nobody tests, fails here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from clientcontact.channels.sendgrid import events as sendgrid_events
from clientcontact.channels.sendgrid import inbound_parse as sendgrid_inbound_parse
from clientcontact.channels.ses import notifications as ses_notifications
from clientcontact.channels.twilio import inbound as twilio_inbound
from tests.signing import FIXTURES

PROVIDERS = ("twilio", "sendgrid", "ses")
TESTS = Path(__file__).parents[1]
SIDECAR = ".headers.json"


def fixtures(provider: str, prefix: str = "") -> list[Path]:
    return sorted(
        p
        for p in (FIXTURES / provider).glob(f"{prefix}*")
        if p.is_file() and not p.name.endswith(SIDECAR) and p.name != "README.md"
    )


def twilio_kinds(path: Path) -> set[str]:
    form = dict(pair.split("=", 1) for pair in path.read_text().split("&"))
    return {form.get("MessageStatus") or form["SmsStatus"]}


def sendgrid_event_kinds(path: Path) -> set[str]:
    return {event["event"] for event in json.loads(path.read_bytes())}


def sendgrid_parse_kinds(path: Path) -> set[str]:
    return {"raw" if b'name="email"' in path.read_bytes() else "parsed"}


def ses_kinds(path: Path) -> set[str]:
    envelope = json.loads(path.read_bytes())
    if envelope["Type"] != "Notification":
        return {envelope["Type"]}
    message = json.loads(envelope["Message"])
    return {message.get("notificationType") or message["eventType"]}


# (adapter module, fixtures it reads, how to tell which event kind a fixture shows)
TABLES: list[tuple[object, str, str, Callable[[Path], set[str]]]] = [
    (twilio_inbound, "twilio", "", twilio_kinds),
    (sendgrid_events, "sendgrid", "event__", sendgrid_event_kinds),
    (sendgrid_inbound_parse, "sendgrid", "inbound_parse__", sendgrid_parse_kinds),
    (ses_notifications, "ses", "sns__", ses_kinds),
]


def table_keys() -> list[tuple[str, str, str]]:
    keys = []
    for module, provider, prefix, _ in TABLES:
        for key in sorted({*module.HANDLED, *module.IGNORED}):
            keys.append((module.__name__, f"{provider}/{prefix}*", key))
    return keys


@pytest.mark.parametrize(
    "path",
    [p for provider in PROVIDERS for p in fixtures(provider)],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_fixture_is_used_by_a_test(path: Path) -> None:
    name = path.name.removesuffix(path.suffix)
    sources = [p.read_text() for p in TESTS.rglob("test_*.py") if p != Path(__file__)]
    assert any(f'"{name}"' in source for source in sources), f"no test names {name!r}"


@pytest.mark.parametrize(("module", "where", "key"), table_keys())
def test_every_handled_and_ignored_kind_has_a_fixture(module: str, where: str, key: str) -> None:
    _, provider, prefix, kinds = next(t for t in TABLES if t[0].__name__ == module)
    shown = set().union(*(kinds(path) for path in fixtures(provider, prefix)))
    assert key in shown, f"{module} names {key!r} but no fixture in {where} shows it"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_fixture_follows_the_naming_and_every_sidecar_has_its_fixture(provider: str) -> None:
    for path in fixtures(provider):
        event, _, variant = path.name.removesuffix(path.suffix).partition("__")
        assert event and variant, f"{path.name} is not <event>__<variant>.<ext>"
        assert path.suffix in (".form", ".json", ".multipart", ".eml"), path.name
    for sidecar in (FIXTURES / provider).glob(f"*{SIDECAR}"):
        name = sidecar.name.removesuffix(SIDECAR)
        assert list((FIXTURES / provider).glob(f"{name}.*")) != [sidecar], f"{sidecar.name}"
