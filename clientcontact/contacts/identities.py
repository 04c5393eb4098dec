"""Normalizing addresses and numbers, so the same person is found however they are written."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from clientcontact.contacts.models import IdentityKind
from clientcontact.errors import BadRequest


# Both normalizers are pure and slow (a full parse each), and ingest meets the same senders
# again and again: answers are remembered, errors are not (junk is rare and raises each time).
@lru_cache(maxsize=8192)
def normalize_email(value: str) -> str:
    """Lower-cased and syntax-checked. No DNS lookup (ingest must never wait on the network),
    and private or reserved domains are fine: businesses do receive mail from them."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False,
                                 globally_deliverable=False, test_environment=True)
    except EmailNotValidError as exc:
        raise BadRequest(f"{value!r} is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


@lru_cache(maxsize=8192)
def normalize_phone(value: str, default_region: str = "US") -> str:
    """E.164 (+15551234567) from any way of writing a number; a clear error when it is not one."""
    raw = value.strip().removeprefix("whatsapp:")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise BadRequest(f"{value!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadRequest(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(kind: IdentityKind, value: str, default_region: str = "US") -> str:
    match kind:
        case IdentityKind.EMAIL:
            return normalize_email(value)
        case IdentityKind.PHONE:
            return normalize_phone(value, default_region)
        case IdentityKind.HANDLE:
            handle = value.strip()
            if not handle:
                raise BadRequest("a handle cannot be empty")
            return handle
