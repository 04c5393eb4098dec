"""Reading header fields from real-world mail without ever raising.

The standard `email` package does the RFC 2047/5322 work; this module only repairs what it is
handed first. Raw 8-bit header bytes (RFC 6532 UTF-8, or undeclared Latin-1) reach the stdlib as
surrogate escapes, which it turns into U+FFFD or leaves inside addresses. We decode those bytes
ourselves (UTF-8, else Windows-1252) before the stdlib parses the field.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from email import policy
from email.headerregistry import Address, Group
from email.message import EmailMessage, Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

# Charset names seen in the wild that Python does not know by that name.
CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext",  # a superset: mail often carries half-width kana
    "gb2312": "gb18030",  # a superset: senders label GBK text as gb2312
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
}

# The stdlib's RFC 5322 header parser is slow on huge fields (seconds for 100 KB): past this
# size we take the simpler legacy parsers, or cut free text, so a hostile header costs little.
STRUCTURED_PARSE_LIMIT = 16_000

_MSG_ID = re.compile(r"<([^<>\s]+@[^<>\s]+|[^<>\s]+)>")
_BARE_ID = re.compile(r"[^\s<>,;\"]+@[^\s<>,;\"]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_bytes(data: bytes, charset: object) -> str:
    """Decode body or header bytes by their declared charset, falling back, never raising.
    A codec such as UTF-7 can decode to lone surrogates, which no database stores (and nh3
    refuses): they become U+FFFD, so a stranger's mail cannot fail its own handling."""
    return without_lone_surrogates(_decoded(data, charset))


def without_lone_surrogates(text: str) -> str:
    """The text with each lone surrogate (which no database stores) replaced by U+FFFD."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def _decoded(data: bytes, charset: object) -> str:
    codec = python_codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeError, ValueError, LookupError):
                continue
    try:
        return data.decode(codec or "cp1252", errors="replace")
    except (UnicodeError, ValueError, LookupError):  # a codec that is text in name only
        return data.decode("cp1252", errors="replace")


def python_codec(charset: object) -> str | None:
    """The Python codec for a MIME charset name, or None when it is unknown or malformed."""
    if isinstance(charset, tuple):  # an RFC 2231 parameter value
        charset = collapse_rfc2231_value(charset)
    if not isinstance(charset, str) or not charset.strip():
        return None
    label = charset.strip().strip('"')
    name = CHARSET_ALIASES.get(label.lower(), label)
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # unknown, or junk such as an embedded NUL
        return None
    # "base64", "zlib", "rot13" … are codecs but not character sets.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _unescape(value: str) -> str:
    """Turn surrogate-escaped raw header bytes back into text (UTF-8, else Windows-1252)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def raw_header(msg: Message, name: str) -> str | None:
    """The first `name` field as unfolded text with raw 8-bit bytes decoded, encoded-words kept."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.strip().lower() == wanted:  # obsolete syntax allows "From  :"
            text = value if isinstance(value, str) else str(value)
            return _unescape(re.sub(r"\r?\n(?=[ \t])", "", text))
    return None


def _structured(name: str, value: str):  # -> BaseHeader | None
    try:
        return policy.default.header_factory(name, value)
    except Exception:  # the stdlib parser has crash bugs on some hostile input
        return None


def text_header(msg: Message, name: str) -> str | None:
    """A header's decoded text (RFC 2047 encoded-words resolved), or None when absent."""
    value = raw_header(msg, name)
    if value is None:
        return None
    return decode_words(value)


def decode_words(value: str) -> str:
    """Resolve RFC 2047 encoded-words in free text (also where they are not allowed, e.g. in
    parameters, because mail clients put them there anyway)."""
    value = value[:STRUCTURED_PARSE_LIMIT]
    header = _structured("x-text", value)
    return _unescape(str(header) if header is not None else value)


def addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address field, in order; [] if unusable."""
    value = raw_header(msg, name)
    if not value:
        return []
    pairs: list[tuple[str, str]] = []
    if len(value) <= STRUCTURED_PARSE_LIMIT:
        header = _structured(name if name.lower() in _ADDRESS_FIELDS else "to", value)
        try:
            pairs = [pair for group in getattr(header, "groups", ()) for pair in _pairs(group)]
        except Exception:  # defensive against stdlib parser bugs
            pairs = []
    if not pairs:  # the structured parser gave up: the old, forgiving one usually copes
        pairs = _legacy_addresses(value)
    return [(_unescape(n), _unescape(a).lower()) for n, a in pairs if a]


def _legacy_addresses(value: str) -> list[tuple[str, str]]:
    try:
        return [(n, a) for n, a in getaddresses([value]) if "@" in a]
    except RecursionError:  # nested comments "((((…" recurse once per level
        return []


_ADDRESS_FIELDS = {"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to"}


def _pairs(group: Group) -> list[tuple[str, str]]:
    result = []
    for address in group.addresses:
        if isinstance(address, Address) and address.username and address.domain:
            result.append((address.display_name or "", address.addr_spec))
    return result


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in order, deduplicated, as "<id>"; tolerant of junk between them."""
    if not value:
        return []
    found = [m.group(1) for m in _MSG_ID.finditer(value)] or _BARE_ID.findall(value)
    return list(dict.fromkeys(f"<{item.strip()}>" for item in found if item.strip()))


def date_header(msg: Message, name: str = "date") -> datetime | None:
    """The instant a Date field denotes, or None when it is missing or unreadable."""
    value = raw_header(msg, name)
    if not value:
        return None
    try:
        return parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def first(values: list[str]) -> str | None:
    return values[0] if values else None


def is_email_message(msg: EmailMessage) -> bool:
    """Whether parsed input looks like mail at all: at least one well-formed header field."""
    return any(re.fullmatch(r"[!-9;-~]+[ \t]*", key or "") for key in msg)
