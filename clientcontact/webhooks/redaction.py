"""Secrets a provider's request carries, kept out of what we store and what we log.

SendGrid's Inbound Parse proves itself with a shared secret in the URL it calls (`?secret=`)
or as the password of HTTP basic auth. Once the request is verified the secret has done its
work: the raw event is stored with it replaced by REDACTED, and the access log prints the
path without it. Handling and replay-inbound never verify again, so neither needs it.
Signatures (X-Twilio-Signature, SendGrid's, SNS's) prove one request only and are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from clientcontact.channels.base import RawRequest

REDACTED = "REDACTED"
SECRET_PARAMETERS = frozenset({"secret"})  # read by channels/sendgrid/inbound_parse.py
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
ACCESS_LOGGER = "uvicorn.access"


def redacted(request: RawRequest) -> RawRequest:
    """The request as it may be stored."""
    return replace(request, url=redact_url(request.url), headers=redact_headers(request.headers))


def redact_url(url: str) -> str:
    """The URL (or path and query) with each secret parameter's value replaced. Hand-written
    rather than `urlencode(parse_qsl(…))`, which would re-encode every other parameter: the
    rest stays exactly as the provider sent it. Names are read the way `parse_qs` reads them
    (`s%65cret` is `secret`), so no spelling verified by it escapes redaction."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [_redact_pair(pair) for pair in parts.query.split("&")]
    return urlunsplit(parts._replace(query="&".join(pairs)))


def _redact_pair(pair: str) -> str:
    name, separator, _ = pair.partition("=")
    if separator and unquote_plus(name).strip() in SECRET_PARAMETERS:
        return f"{name}={REDACTED}"
    return pair


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with credentials replaced; the scheme (e.g. `Basic`) stays readable."""
    return {name: _redact_credentials(value) if name.lower() in SECRET_HEADERS else value
            for name, value in headers.items()}


def _redact_credentials(value: str) -> str:
    scheme, separator, _ = value.partition(" ")
    return f"{scheme} {REDACTED}" if separator else REDACTED


class RedactedAccessLog(logging.Filter):
    """Uvicorn's access log line without secrets: its third argument is the path with the
    query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on the access log of the server running us (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactedAccessLog) for f in logger.filters):
        logger.addFilter(RedactedAccessLog())
