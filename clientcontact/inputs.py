"""What the API and the UI accept, in one place: ids the database can hold, text it can store,
content types a response header can carry.

Every request shape (pydantic body, query or form parameter) builds on these, so a value the
database would refuse with an error of its own is refused at the edge with a 422 instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# Ids are 64-bit signed integers on both engines; a larger one can name no row.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def is_id(value: int) -> bool:
    """Whether `value` could be an id; for ids that reach a query without an `Id` check."""
    return 1 <= value <= MAX_ID


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a time between the years 1 and 9999 in UTC") from None


# A moment a client names: with its UTC offset (a naive time means nothing on a server that
# serves agents in every time zone), kept in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]

# Lone surrogates (JSON allows "\ud800") cannot be encoded as UTF-8, and PostgreSQL refuses NUL
# in text, so neither can be stored anywhere.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_character(text: str) -> str | None:
    """A description of the first character of `text` no database can store, if any."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"


def _storable(text: str) -> str:
    problem = unstorable_character(text)
    if problem is not None:
        raise ValueError(f"text must not contain {problem}")
    return text


# Every string a client sends; give each field its own max_length with Field or Query.
PlainText = Annotated[str, AfterValidator(_storable)]


def _one_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError("must be one line (no CR or LF)")
    return text


# A name, an address, a subject: what may end up in an email header, where a line break would
# start a header of its own.
OneLine = Annotated[PlainText, AfterValidator(_one_line)]

# RFC 2045 type/subtype with optional parameters, in printable ASCII only: what may go into
# a Content-Type header (no CR, LF or other control characters). Hand-written: the standard
# library's email parser accepts anything and repairs it silently.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = rf"""\s*;\s*{_TOKEN}=(?:{_TOKEN}|"[ !#-\[\]-~]*")"""
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:{_PARAMETER})*\s*")


def is_media_type(value: str) -> bool:
    return _MEDIA_TYPE.fullmatch(value) is not None


def servable_media_type(value: str) -> str:
    """A stored content type fit for a response header: one accepted before this check, or
    taken from a provider, may not be."""
    return value if is_media_type(value) else "application/octet-stream"


def _media_type(value: str) -> str:
    if not is_media_type(value):
        raise ValueError("must be a MIME type such as 'image/png' or "
                         "'text/plain; charset=utf-8'")
    return value


MediaType = Annotated[str, Field(min_length=3, max_length=255), AfterValidator(_media_type)]
