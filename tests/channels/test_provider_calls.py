"""The helpers every provider sender shares: Retry-After parsing and the deadline on SDK calls."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from clientcontact.channels.base import PermanentFailure, TransientFailure
from clientcontact.channels.provider_calls import call_in_thread, retry_after_seconds

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def http_date(seconds_from_now: int) -> str:
    return format_datetime(
        datetime.fromtimestamp(NOW.timestamp() + seconds_from_now, UTC), usegmt=True
    )


@pytest.mark.parametrize(("value", "seconds"), [("30", 30.0), ("0", 0.0), (" 120 ", 120.0)])
def test_retry_after_in_delta_seconds(value, seconds):
    assert retry_after_seconds(value, now=NOW.timestamp()) == seconds


def test_retry_after_as_an_http_date_in_the_future_is_the_time_until_then():
    assert retry_after_seconds(http_date(90), now=NOW.timestamp()) == 90.0


def test_retry_after_as_an_http_date_already_past_means_now():
    assert retry_after_seconds(http_date(-600), now=NOW.timestamp()) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Wed, 99 Foo 2026"])
def test_retry_after_missing_or_unreadable_is_none(value):
    assert retry_after_seconds(value, now=NOW.timestamp()) is None


def test_a_call_within_the_deadline_returns_its_value():
    assert asyncio.run(call_in_thread(lambda: "sent", provider="Fake", timeout=1.0)) == "sent"


def test_what_the_call_raises_passes_through_unchanged():
    refusal = PermanentFailure("no such user", code="550")

    def refuse() -> None:
        raise refusal

    with pytest.raises(PermanentFailure) as raised:
        asyncio.run(call_in_thread(refuse, provider="Fake", timeout=1.0))

    assert raised.value is refusal


def test_a_call_past_the_deadline_is_a_transient_timeout():
    release = threading.Event()

    async def main() -> float:
        started = time.monotonic()
        try:
            with pytest.raises(TransientFailure) as failed:
                await call_in_thread(
                    lambda: release.wait(5.0), provider="Fake", timeout=0.5, deadline=0.1
                )
            assert failed.value.code == "timeout"
            assert failed.value.text == "Fake did not answer within 0.5 s"
            return time.monotonic() - started
        finally:
            release.set()  # let the abandoned worker thread end

    assert asyncio.run(main()) < 1.0
