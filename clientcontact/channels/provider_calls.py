"""What every provider sender needs around a call to its SDK: a deadline, and Retry-After.

The provider SDKs (Twilio, SendGrid, boto3, smtplib) are synchronous, so each call runs in a
worker thread to keep the event loop free. Their own socket timeouts should end a slow call, but
a hung DNS lookup or TLS handshake can outlive them; the deadline here is the backstop that
turns such a call into a retryable failure instead of a stuck delivery worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from time import time
from typing import TypeVar

from clientcontact.channels.base import TransientFailure

T = TypeVar("T")

# Added to the SDK's own timeout, so that its more specific error fires before our deadline.
DEADLINE_GRACE = 2.0


def timed_out(provider: str, timeout: float) -> TransientFailure:
    """The failure for a provider that did not answer in time: worth retrying later."""
    return TransientFailure(f"{provider} did not answer within {timeout:g} s", code="timeout")


async def call_in_thread(
    call: Callable[[], T], *, provider: str, timeout: float, deadline: float | None = None
) -> T:
    """Run a blocking SDK call in a worker thread and wait at most `deadline` seconds for it.

    `timeout` is the SDK's own timeout, named in the failure; `deadline` defaults to it plus
    `DEADLINE_GRACE`. Past the deadline the thread is abandoned (Python cannot stop it) and
    `TransientFailure(code="timeout")` is raised; whatever `call` raises passes through as is.
    """
    limit = timeout + DEADLINE_GRACE if deadline is None else deadline
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), limit)
    except TimeoutError as exc:
        raise timed_out(provider, timeout) from exc


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait before retrying, from an HTTP Retry-After header (RFC 9110 §10.2.3).

    The header is either delta-seconds or an HTTP date; a date already past means "now" (0).
    None when the header is missing or unreadable, so the caller's own backoff applies.
    `now` (epoch seconds) is for tests; it defaults to the current time.
    """
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time() if now is None else now))
