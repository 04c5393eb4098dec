"""SendGrid's signed webhooks: ECDSA P-256 / SHA-256 over the timestamp header and raw body.

The Event Webhook and Inbound Parse security policies use the same scheme and headers. The
signature covers the exact bytes received, so nothing is re-serialised before checking, and a
timestamp older (or newer) than five minutes is refused so a captured request cannot be replayed.

https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from clientcontact.channels.base import RawRequest
from clientcontact.errors import ConfigurationError, Unauthenticated

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
MAX_AGE = timedelta(minutes=5)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_verification_key(key: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid shows it (base64 DER SubjectPublicKeyInfo), or as PEM."""
    try:
        text = key.strip()
        if text.startswith("-----BEGIN"):
            public_key = load_pem_public_key(text.encode())
        else:
            public_key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ConfigurationError("SendGrid verification key is not a public key") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise ConfigurationError("SendGrid verification key is not an ECDSA P-256 key")
    return public_key


class SignedWebhookVerifier:
    """Checks one SendGrid signing key's signature and the freshness of its timestamp."""

    def __init__(
        self, verification_key: str, *, clock: Clock = utc_now, max_age: timedelta = MAX_AGE
    ) -> None:
        self._key = load_verification_key(verification_key)
        self._clock = clock
        self._max_age = max_age

    def verify(self, request: RawRequest) -> None:
        """Raise Unauthenticated unless SendGrid signed these exact bytes within max_age."""
        signature = request.headers.get(SIGNATURE_HEADER)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise Unauthenticated("missing SendGrid signature or timestamp header")
        self._check_fresh(timestamp)
        try:
            der = base64.b64decode(signature, validate=True)
            self._key.verify(der, timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, InvalidSignature) as exc:
            raise Unauthenticated("SendGrid signature does not match this request") from exc

    def _check_fresh(self, timestamp: str) -> None:
        try:
            signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise Unauthenticated(f"SendGrid timestamp is not a unix time: {timestamp!r}") from exc
        if abs(self._clock() - signed_at) > self._max_age:
            raise Unauthenticated("SendGrid timestamp is stale: a replay, or a clock far off")


__all__ = [
    "MAX_AGE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignedWebhookVerifier",
    "load_verification_key",
]
