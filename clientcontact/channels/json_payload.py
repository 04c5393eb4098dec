"""Providers' JSON, read strictly: what a webhook says is later stored as text, so it must be
text a database can hold.

orjson refuses what Python's `json` lets through and a provider never sends: nesting deeper
than 1024 levels (Python's parser raises RecursionError, which is no clear 400), lone UTF-16
surrogates such as `"\\ud800"` (no database column can store them), invalid UTF-8, NaN and
Infinity.
"""

from __future__ import annotations

from typing import Any

import orjson

from clientcontact.errors import BadPayload


def load_json(data: bytes | str, refusal: str) -> Any:
    """The parsed value, or BadPayload saying `refusal` (e.g. "SNS body is not JSON") and why."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"{refusal}: {exc}") from exc
